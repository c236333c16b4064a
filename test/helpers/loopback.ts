// Clients for limit tests: raw TCP connections, HTTP requests and WebSocket upgrades from a
// chosen loopback address (Linux routes all of 127.0.0.0/8 to the loopback interface), so one
// test can be several clients.

import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { WebSocket } from "ws";

/** A raw connection: its socket, what it received, and when the server closed it. */
export interface RawConnection {
  readonly socket: Socket;
  readonly received: () => string;
  /** Resolves once the socket closed (either side); `closedAt` then says when. */
  readonly closed: Promise<void>;
  closedAt: number | undefined;
}

/** Opens a TCP connection to 127.0.0.1:`port` from `from`; resolves once connected. */
export function openRaw(port: number, from = "127.0.0.1"): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress: from });
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
    });
    socket.on("error", () => {});
    const connection: RawConnection = {
      socket,
      received: () => text,
      closed: new Promise((done) =>
        socket.once("close", () => {
          connection.closedAt = Date.now();
          done();
        }),
      ),
      closedAt: undefined,
    };
    socket.once("connect", () => resolve(connection));
    socket.once("error", reject);
  });
}

/** An answer: status and body; status 0 when the connection ended without one. */
export interface LoopbackAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly ms: number;
}

/** One HTTP request from `from` (a fresh connection); status 0 if the server closed it. */
export function requestFrom(
  url: string,
  from: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<LoopbackAnswer> {
  const target = new URL(url);
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? "GET",
        headers: options.headers,
        localAddress: from,
        agent: false,
      },
      (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => {
          body += chunk.toString("utf8");
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            ms: Date.now() - started,
          }),
        );
      },
    );
    req.on("error", () => resolve({ status: 0, headers: {}, body: "", ms: Date.now() - started }));
    req.end(options.body);
  });
}

/** A WebSocket that opened, or the HTTP status its upgrade was refused with (0: cut). */
export type UpgradeOutcome =
  | { readonly open: true; readonly socket: WebSocket }
  | { readonly open: false; readonly status: number; readonly body: string };

/** Opens a WebSocket to `url` from `from`. */
export function upgradeFrom(
  url: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<UpgradeOutcome> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { localAddress: from, headers });
    socket.once("open", () => resolve({ open: true, socket }));
    socket.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      res.on("end", () => resolve({ open: false, status: res.statusCode ?? 0, body }));
    });
    socket.once("error", () => resolve({ open: false, status: 0, body: "" }));
  });
}

/** Closes WebSockets and waits until the server saw them go. */
export async function closeAll(sockets: readonly WebSocket[]): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((done) => {
          if (socket.readyState === WebSocket.CLOSED) return done();
          socket.once("close", () => done());
          socket.close();
        }),
    ),
  );
}

/** A metric's value from the Prometheus text, summed over label sets matching `labels`. */
export function metricValue(text: string, name: string, labels = ""): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(" ") || rest.startsWith("{"))) continue;
    if (labels !== "" && !rest.includes(labels)) continue;
    total += Number(line.split(" ").at(-1));
  }
  return total;
}
