// What went wrong when a client could not reach a server, in words, and whether trying again can
// help: shared by every way a client connects (WebSocket dialer, HTTP requests), so each command
// says "connection refused (is a server listening there?)" the same way and retries the same.

import { createError, isErrorCode, type SynclineError } from "../protocol/errors.js";

const networkReasons: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is a server listening there?)",
  ENOTFOUND: "name not resolved",
  EAI_AGAIN: "name not resolved (temporary DNS failure)",
  ECONNRESET: "connection reset by the server",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed by the server",
  ENOENT: "no socket at that path (is the server running with --unix?)",
  EACCES: "permission denied",
};

/** Failures that the same attempt will meet again: a name that does not resolve, TLS trust. */
const finalNetworkCodes = new Set(["ENOTFOUND", "EACCES"]);

/** ERR_CONNECT for a failed attempt to reach `where`, explained, with its retryability. */
export function connectError(context: string, where: string, error: unknown): SynclineError {
  const { reason, retryable } = explain(error);
  return createError("ERR_CONNECT", `${context}: cannot connect to ${where}: ${reason}`, {
    cause: error,
    retryable,
  });
}

/**
 * The error for a server's refusal (an HTTP answer instead of what was asked): its own code when
 * the body is a syncline error `{error: {code, message}}`, else ERR_UPGRADE_REFUSED (401/403:
 * ERR_UNAUTHORIZED) quoting the body. A 5xx may pass (overload, a restart), the rest will not.
 */
export function refusalError(
  context: string,
  where: string,
  status: number,
  body: string,
): SynclineError {
  const answer = serverError(body);
  const said = answer?.message ?? body.trim().slice(0, 300);
  const message = `${context}: ${where} refused (HTTP ${status})${said ? `: ${said}` : ""}`;
  if (answer !== undefined && isErrorCode(answer.code)) {
    return createError(answer.code, message, { status });
  }
  const code = status === 401 || status === 403 ? "ERR_UNAUTHORIZED" : "ERR_UPGRADE_REFUSED";
  return createError(code, message, { status, retryable: status >= 500 });
}

function serverError(body: string): { code: unknown; message: string } | undefined {
  try {
    const error = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    return typeof error?.message === "string"
      ? { code: error.code, message: error.message }
      : undefined;
  } catch {
    return undefined;
  }
}

function explain(error: unknown): { reason: string; retryable: boolean } {
  const { code, hostname } = error as { code?: unknown; hostname?: unknown };
  const text = describe(error);
  if (typeof code === "string") {
    if (code === "ENOTFOUND" && typeof hostname === "string") {
      return { reason: `name not resolved: ${hostname}`, retryable: false };
    }
    const reason = networkReasons[code];
    if (reason !== undefined) return { reason, retryable: !finalNetworkCodes.has(code) };
    if (isTlsCode(code)) return { reason: tlsReason(code, text), retryable: false };
  }
  if (/wrong version number|packet length too long/i.test(text)) {
    return { reason: tlsReason("ERR_SSL_WRONG_VERSION_NUMBER", text), retryable: false };
  }
  if (/opening handshake has timed out/i.test(text)) {
    return { reason: "connection timed out", retryable: true };
  }
  if (/socket hang up/i.test(text)) {
    return { reason: "the server closed the connection before answering", retryable: true };
  }
  return { reason: text, retryable: true };
}

function tlsReason(code: string, text: string): string {
  // A TLS client that meets a plain-text server reads its HTTP answer as a TLS record.
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER") {
    return "the server does not speak TLS on that port: use ws:// or http:// (or the server's TLS port)";
  }
  return `TLS failure: ${text}${/CERT|SELF_SIGNED|UNABLE_TO/.test(code) ? " (trust the server's certificate with --ca FILE)" : ""}`;
}

function isTlsCode(code: string): boolean {
  return (
    code.startsWith("ERR_TLS_") ||
    code.startsWith("ERR_SSL_") ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO/.test(code)
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
