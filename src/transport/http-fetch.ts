// A small `fetch` for Node clients of a server address: over TCP, TLS with extra trusted CAs, or a
// Unix socket (which the global fetch cannot reach), with every network failure explained the way
// every other client explains it (connect-errors.ts). Enough for JSON APIs: whole bodies as text,
// at most `maxBodyBytes` of them.

import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { createError, describeError } from "../protocol/errors.js";
import { connectError } from "./connect-errors.js";
import {
  describeAddress,
  httpUrl,
  parseServerAddress,
  type ServerAddress,
} from "./server-address.js";

/** What a request says: method, headers, a text body, and a signal that aborts it. */
export interface HttpFetchInit {
  readonly method: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** The answer: its status and its body as text. */
export interface HttpFetchResponse {
  readonly status: number;
  text(): Promise<string>;
}

/** Options of `createHttpFetch`. */
export interface HttpFetchOptions {
  /** Extra CA certificates (PEM) to trust for https://. */
  readonly ca?: string | Buffer | undefined;
  /** What is asking, first in error messages (`share`). */
  readonly context: string;
  /** Longest answer read, bytes; a longer one fails. Default 16 MiB. */
  readonly maxBodyBytes?: number;
}

/**
 * A fetch for `server` (a parsed address, or `http(s)://…`, `ws(s)://…`, `unix:/path.sock`): a
 * URL is a path on it (`/api/share`) or a full http(s):// URL, e.g. one a share client made from
 * the server's URL; over a Unix socket only its path counts. Network failures reject with
 * ERR_CONNECT saying what happened, a bad URL with ERR_INVALID_OPTION.
 */
export function createHttpFetch(
  server: ServerAddress | string,
  options: HttpFetchOptions,
): (url: string, init?: HttpFetchInit) => Promise<HttpFetchResponse> {
  const address = typeof server === "string" ? parseServerAddress(server) : server;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const where = describeAddress(address);
  return (url, init = { method: "GET" }) =>
    new Promise((resolve, reject) => {
      // A path is taken under the address's base path; a full URL as it is, over the address's
      // socket (a Unix socket's URLs name only the path).
      const target = requestUrl(address, url, options.context);
      const path = `${target.pathname}${target.search}`;
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      const headers = { ...init.headers };
      if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
      const req = send(target, {
        method: init.method,
        headers,
        ...(address.kind === "unix" ? { socketPath: address.path } : {}),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      });
      req.once("error", (error) => reject(connectError(options.context, where, error)));
      req.once("response", (response) => {
        readBody(
          response,
          maxBodyBytes,
          `${options.context}: ${init.method} ${path} on ${where}`,
        ).then(
          (text) => resolve({ status: response.statusCode ?? 0, text: async () => text }),
          reject,
        );
      });
      req.end(init.body);
    });
}

function readBody(response: IncomingMessage, maxBytes: number, context: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    response.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        response.destroy();
        reject(
          createError("ERR_UNEXPECTED", `${context}: the answer is larger than ${maxBytes} bytes`),
        );
        return;
      }
      chunks.push(chunk);
    });
    response.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.once("error", (error) =>
      reject(
        createError(
          "ERR_CONNECTION_CLOSED",
          `${context}: the answer was cut off: ${describeError(error)}`,
          { cause: error },
        ),
      ),
    );
  });
}

/** `url` as an http(s) URL on `address`; ERR_INVALID_OPTION for anything else. */
function requestUrl(address: ServerAddress, url: string, context: string): URL {
  let target: URL | undefined;
  try {
    target = new URL(url.startsWith("/") ? httpUrl(address, url) : url);
  } catch {}
  if (target === undefined || (target.protocol !== "http:" && target.protocol !== "https:")) {
    throw createError(
      "ERR_INVALID_OPTION",
      `${context}: url ${JSON.stringify(url)} is not a path (/…) or an http(s):// url`,
    );
  }
  return target;
}
