// Opens the one-shot sync client's WebSocket and turns every way that can fail into an error that
// says what happened (refused, name not resolved, TLS, HTTP status) and names the server.

import { WebSocket } from "ws";
import { createError, describeError, type SynclineError } from "../../protocol/errors.js";

/** How to open the socket. */
export interface OpenSyncSocketOptions {
  /** The ws:// or wss:// URL as the user gave it (named in errors; never holds the token). */
  readonly url: string;
  /** Sent as `?token=` (browsers cannot set headers, so servers read it from the query). */
  readonly token?: string | undefined;
  /** Time allowed for TCP, TLS and the upgrade, ms. */
  readonly timeoutMs: number;
  /** Largest frame accepted, bytes. */
  readonly maxPayload: number;
  /** Extra CA certificates (PEM) to trust for wss://. */
  readonly ca?: string | undefined;
}

/** The URL to dial: the user's URL with the token in the query. */
export function dialUrlOf(url: string, token: string | undefined): string {
  if (token === undefined) return url;
  const withToken = new URL(url);
  withToken.searchParams.set("token", token);
  return withToken.toString();
}

/** Opens the socket; rejects with ERR_CONNECT (retryable) or ERR_UNAUTHORIZED (not). */
export function openSyncSocket(options: OpenSyncSocketOptions): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(dialUrlOf(options.url, options.token), {
        perMessageDeflate: false,
        maxPayload: options.maxPayload,
        handshakeTimeout: Math.max(1, Math.round(options.timeoutMs)),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      });
    } catch (error) {
      reject(
        createError(
          "ERR_INVALID_SERVER_URL",
          `sync: server ${JSON.stringify(options.url)} is not a ws:// or wss:// url`,
          {
            cause: error,
          },
        ),
      );
      return;
    }
    socket.once("open", () => {
      socket.removeAllListeners("error");
      socket.removeAllListeners("unexpected-response");
      resolve(socket);
    });
    socket.once("unexpected-response", (_request, response) => {
      socket.terminate();
      reject(httpRefusal(options.url, response.statusCode ?? 0, response.statusMessage ?? ""));
    });
    socket.once("error", (error) => reject(connectError(options.url, error)));
  });
}

/**
 * True for failures worth another attempt: the network, not a refusal or a protocol error. An
 * unknown host name (NXDOMAIN) or a certificate the client does not trust will not change in a
 * few seconds, so those fail at once.
 */
export function isRetryable(error: unknown): boolean {
  const { code, status, cause } = error as { code?: unknown; status?: unknown; cause?: unknown };
  if (code === "ERR_CONNECTION_CLOSED") return true;
  if (code !== "ERR_CONNECT") return false;
  const causeCode = (cause as { code?: unknown } | undefined)?.code;
  if (causeCode === "ENOTFOUND" || (typeof causeCode === "string" && isTlsCode(causeCode))) {
    return false;
  }
  // An HTTP answer is the server's decision; only overload or gateway trouble may pass.
  return typeof status !== "number" || status >= 500;
}

function httpRefusal(url: string, status: number, statusMessage: string): SynclineError {
  const answer = `HTTP ${status} ${statusMessage}`.trim();
  if (status === 401 || status === 403) {
    return createError(
      "ERR_UNAUTHORIZED",
      `sync: ${url} refused the connection (${answer}); set a valid [sync] token`,
      { status },
    );
  }
  return createError(
    "ERR_CONNECT",
    `sync: ${url} answered ${answer} instead of a WebSocket upgrade; is it an automerge sync server?`,
    { status },
  );
}

/** ERR_CONNECT naming the URL and what went wrong in words. */
export function connectError(url: string, error: unknown): SynclineError {
  return createError("ERR_CONNECT", `sync: cannot connect to ${url}: ${explain(error)}`, {
    cause: error,
  });
}

const networkReasons: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is a server listening there?)",
  ENOTFOUND: "name not resolved",
  EAI_AGAIN: "name not resolved (temporary DNS failure)",
  ECONNRESET: "connection reset by the server",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed by the server",
};

function explain(error: unknown): string {
  const { code, hostname } = error as { code?: unknown; hostname?: unknown };
  if (typeof code === "string") {
    const reason = networkReasons[code];
    if (reason === "name not resolved" && typeof hostname === "string") {
      return `name not resolved: ${hostname}`;
    }
    if (reason !== undefined) return reason;
    if (isTlsCode(code)) return `TLS failure: ${describeError(error)}`;
  }
  const text = describeError(error);
  if (/opening handshake has timed out/i.test(text)) return "connection timed out";
  if (/ssl|tls|certificate/i.test(text)) return `TLS failure: ${text}`;
  return text;
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO/.test(code)
  );
}
