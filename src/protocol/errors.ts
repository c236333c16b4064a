// Every error syncline raises is built here, with a stable `code` that tests, scripts and
// `--json` output rely on; the message is for people and may change. See docs/errors.md.

/** The catalog of error codes: code → one-line meaning (docs/errors.md mirrors this list). */
export const errorCatalog = {
  ERR_UNEXPECTED: "an internal error; the message and logs say more",
  ERR_USAGE: "a command line that cannot be understood: unknown command or flag, missing argument",
  ERR_INVALID_CONFIG: "a configuration value (flag, environment variable or file) is invalid",
  ERR_CONFIG_FILE: "the configuration file cannot be read or is not valid TOML",
  ERR_LISTEN: "the server cannot listen on the requested address, port or socket path",
  ERR_TLS_CONFIG: "the TLS certificate or key cannot be read or does not load",
  ERR_DATA_DIR_LOCKED: "another running syncline process holds the data directory",
  ERR_STORE_OPEN: "the store cannot be opened (permissions, corrupt files, missing directory)",
  ERR_STORE_CLOSED: "the store was used after it was closed",
  ERR_STORE_WRITE: "the store could not commit a write; nothing of that batch was applied",
  ERR_INVALID_STORE_KEY: "a store key is empty or has a segment that is not a non-empty string",
  ERR_INVALID_DOCUMENT_ID: "a string is not an Automerge document id (bs58check of 16 bytes)",
  ERR_INVALID_AUTOMERGE_URL: "a string is not an automerge: URL",
  ERR_NOT_FOUND: "no such route or resource (HTTP 404)",
  ERR_METHOD_NOT_ALLOWED: "the route exists but not for this HTTP method (HTTP 405)",
  ERR_UPGRADE_REFUSED: "a WebSocket upgrade was refused before the handshake; the status says why",
  ERR_WIRE_TIMEOUT: "the wire handshake did not finish in time (close code 4408)",
  ERR_WIRE_REFUSED:
    "the peer ended the wire handshake with an ERROR frame; the message carries its code",
  ERR_INVALID_SERVER_URL: "a server address is not ws://, wss:// or unix:/path",
  ERR_CONNECT: "cannot connect to the server (after the configured retries)",
  ERR_INVALID_CHANNEL: "a channel name is not 1–128 letters, digits or . _ : @ / -",
  ERR_CONNECTION_CLOSED: "the connection closed before the operation finished",
  ERR_QUEUE_FULL:
    "a client's offline queue is at its message or byte limit; the message was refused",
  ERR_SHUTTING_DOWN: "the server is shutting down and refuses new work",
  ERR_WIRE_FRAME:
    "a wire frame is malformed: short header, wrong length, unknown type, reserved flags or stream id",
  ERR_WIRE_MESSAGE:
    "a wire message body is malformed: not a CBOR map, or a field missing, mistyped or out of bounds",
  ERR_WIRE_VERSION: "the two ends of a wire connection share no protocol version",
  ERR_STREAM_PROTOCOL:
    "a stream broke flow control or framing: data beyond credit or size, after END, wrong size",
  ERR_STREAM_INTEGRITY:
    "the SHA-256 of a received payload differs from the one its sender announced",
  ERR_STREAM_CANCELLED: "a stream transfer was cancelled by either end before it completed",
  ERR_STREAM_TOO_LARGE: "a stream announced a payload larger than the receiver accepts",
  ERR_STREAM_SOURCE:
    "a stream's payload source returned fewer or more bytes than asked (it changed)",
  ERR_AUTH_KEY_FILE: "a private key file (--identity or ~/.ssh/id_*) cannot be read or parsed",
  ERR_AUTH_PASSPHRASE:
    "an encrypted private key needs a passphrase that cannot be asked, or it is wrong",
  ERR_AUTH_AGENT:
    "ssh-agent (SSH_AUTH_SOCK) cannot be reached, lists no usable key or fails to sign",
  ERR_AUTH_NO_IDENTITY: "no SSH key to sign with: no --identity, no agent key, no ~/.ssh/id_* file",
  ERR_AUTH_SIGNATURE:
    "an authentication signature is malformed, has the wrong namespace or is invalid",
  ERR_AUTH_ALGORITHM: "an unsupported key type or signature algorithm, such as SHA-1 RSA (ssh-rsa)",
  ERR_AUTH_NONCE: "the challenge nonce was already used, has expired, or was never issued",
  ERR_AUTH_NOT_AUTHORIZED: "the key is not in authorized_keys, or its from= or expiry-time refuses",
  ERR_AUTH_HOST_KEY: "the server's host key does not match the pinned fingerprint",
  ERR_AUTHORIZED_KEYS: "an authorized_keys file cannot be read or has a malformed line",
  ERR_AUTOMERGE_MESSAGE:
    "an automerge-repo frame is malformed: not CBOR, not a map, no type, a field missing or mistyped",
  ERR_AUTOMERGE_VERSION: 'the peer supports no automerge-repo protocol version we speak ("1")',
  ERR_AUTOMERGE_PROTOCOL:
    "an automerge-repo peer broke the protocol: a message before join, an unexpected reply, an error frame",
  ERR_DOCUMENT_UNAVAILABLE: "the server has no copy of the document and nobody else offered one",
  ERR_DOCUMENT_TOO_LARGE: "a frame or a document exceeds the server's configured size limit",
  ERR_SYNC_DISABLED: "sync is disabled in the configuration ([sync] enabled = false)",
  ERR_SYNC_UNRELATED:
    "the local file and the server's document share no history (the file holds another document)",
  ERR_TIMEOUT: "an operation did not finish within its time limit",
  ERR_UNAUTHORIZED: "the request lacks a valid access token (HTTP 401)",
  ERR_LOCAL_FILE: "a local file cannot be read, written or parsed (e.g. not an Automerge document)",
  ERR_FILE_LOCKED:
    "a local file's lock file is held by another process past the wait (e.g. the share records)",
  ERR_SHARE_NOT_FOUND: "no live share with that id (HTTP 404; viewer close 4404)",
  ERR_SHARE_EXISTS:
    "a live share with that id already exists (HTTP 409); its secret is never returned",
  ERR_SHARE_SECRET: "the share secret is missing or wrong (HTTP 401)",
  ERR_SHARE_REQUEST:
    "a share request body is malformed: not JSON, not an object, a field missing or mistyped (HTTP 400)",
  ERR_SHARE_TOO_LARGE:
    "a share request body or one of its items exceeds the server's size limit (HTTP 413)",
  ERR_SHARE_STORAGE:
    "the share's storage failed; nothing of that request was applied, retry (HTTP 503)",
  ERR_SHARE_DELETING:
    "the share is being deleted right now; retry: it is gone (404) if the delete succeeds, unchanged if it fails (HTTP 503)",
  ERR_SHARE_MEMORY_BUDGET:
    "loaded shares fill the server's share memory budget and none can leave memory; retry (HTTP 503)",
  ERR_SHARE_RECORD:
    "no local share record for the session (run share create), or the records file is unreadable",
  ERR_SHARE_ITEM: "a share item given to the client is not JSON or has no key (bad type or id)",
} as const;

/** A stable error code, `ERR_…`. */
export type ErrorCode = keyof typeof errorCatalog;

/** Options shared by every syncline error. */
export interface ErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown;
  /** The HTTP status to answer with when this error ends a request. */
  status?: number;
  /** The WebSocket close code to use when this error ends a connection. */
  closeCode?: number;
}

/** The one error class syncline throws; assert on `code`, never on `message`. */
export class SynclineError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;
  readonly closeCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SynclineError";
    this.code = code;
    this.status = options.status;
    this.closeCode = options.closeCode;
  }
}

/** Builds a SynclineError; the message should name the context first and the bad value. */
export function createError(
  code: ErrorCode,
  message: string,
  options?: ErrorOptions,
): SynclineError {
  return new SynclineError(code, message, options);
}

/** True when `error` is a SynclineError, optionally with the given code. */
export function isSynclineError(error: unknown, code?: ErrorCode): error is SynclineError {
  return error instanceof SynclineError && (code === undefined || error.code === code);
}

/** A short description of any thrown value, for messages that wrap a cause. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && !error.message.includes(code)
      ? `${error.message} (${code})`
      : error.message;
  }
  return String(error);
}
