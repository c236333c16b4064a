// Small HTTP helpers for tests: a GET over TCP, TLS or a Unix socket, with the body as text.

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

/** The parts of a response tests look at. */
export interface TestResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Sends one request; `socketPath` targets a Unix socket, `ca` trusts a test certificate. */
export function httpGet(
  url: string,
  options: { method?: string; socketPath?: string; ca?: string; body?: string } = {},
): Promise<TestResponse> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        hostname: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? "GET",
        socketPath: options.socketPath,
        ca: options.ca,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
