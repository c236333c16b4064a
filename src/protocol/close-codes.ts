// The WebSocket close codes of each endpoint, named. Code that closes a socket uses these names,
// never a number; docs/errors.md lists them from `closeCodeTable`.

/** One close code of an endpoint and when it is sent. */
export interface CloseCodeSpec {
  readonly code: number;
  readonly when: string;
}

type CodesOf<T extends Record<string, CloseCodeSpec>> = { readonly [K in keyof T]: T[K]["code"] };

function codesOf<T extends Record<string, CloseCodeSpec>>(specs: T): CodesOf<T> {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [name, spec.code]),
  ) as CodesOf<T>;
}

const wire = {
  normal: { code: 1000, when: "either end closes a connection it is done with" },
  goingAway: { code: 1001, when: "the server is shutting down" },
  tooBig: {
    code: 1009,
    when: "a frame larger than allowed (16 KiB before authentication, `maxFrameBytes` after)",
  },
  internalError: { code: 1011, when: "the server failed unexpectedly (`ERR_UNEXPECTED`)" },
  malformed: {
    code: 4400,
    when: "a malformed frame or message, an unknown type, a text message, a message other than HELLO, AUTH or ERROR before AUTH, more than 16 frames (64 KiB) pipelined between AUTH and WELCOME, a wrong stream id (`ERR_WIRE_FRAME`, `ERR_WIRE_MESSAGE`)",
  },
  authFailed: {
    code: 4401,
    when: "authentication failed: a bad signature, the wrong namespace, a replayed or expired nonce (`ERR_AUTH_SIGNATURE`, `ERR_AUTH_ALGORITHM`, `ERR_AUTH_NONCE`)",
  },
  notAuthorized: {
    code: 4403,
    when: "the key is not authorized: not in authorized_keys, or its line's `from=`, `expiry-time` or `command=` refuses it (`ERR_AUTH_NOT_AUTHORIZED`)",
  },
  noCommonVersion: { code: 4406, when: "no common protocol version (`ERR_WIRE_VERSION`)" },
  handshakeTimeout: {
    code: 4408,
    when: "the handshake did not complete in time (`ERR_WIRE_TIMEOUT`)",
  },
  slowReader: {
    code: 4429,
    when: "the client read nothing of what it was sent, or kept more than `--output-max-buffered` unread, for `--output-grace` (`ERR_SLOW_READER`)",
  },
} as const satisfies Record<string, CloseCodeSpec>;

const automerge = {
  normal: { code: 1000, when: "a client closes after a finished sync" },
  goingAway: { code: 1001, when: "the server is shutting down" },
  tooBig: {
    code: 1009,
    when: "a frame above `--automerge-max-message` (default 64 MiB)",
  },
  internalError: {
    code: 1011,
    when: "a change could not be saved, so nothing was acknowledged (`ERR_STORE_WRITE`); or an unexpected failure, e.g. the worker thread holding the document crashed (`ERR_UNEXPECTED`; nothing unacknowledged was kept: resync)",
  },
  malformed: {
    code: 4400,
    when: "a malformed frame (not CBOR, not a map, no type, a mistyped field, an invalid document id, invalid sync data) or a message before `join` (`ERR_AUTOMERGE_MESSAGE`, `ERR_AUTOMERGE_PROTOCOL`)",
  },
  noCommonVersion: {
    code: 4406,
    when: "no common protocol version, after an `error` message (`ERR_AUTOMERGE_VERSION`)",
  },
  peerReplaced: {
    code: 4409,
    when: "the same peer id joined again on a newer socket (`ERR_AUTOMERGE_PEER_REPLACED`)",
  },
  documentTooLarge: {
    code: 4413,
    when: "the sync would grow the document past `--automerge-max-document`, default 256 MiB (`ERR_DOCUMENT_TOO_LARGE`)",
  },
  slowReader: {
    code: 4429,
    when: "the peer read nothing of what it was sent, or kept more than `--output-max-buffered` unread, for `--output-grace` (`ERR_SLOW_READER`)",
  },
  // Limits and abuse.
  deleted: {
    code: 4410,
    when: "a document this socket syncs was deleted through the admin API (`ERR_DOCUMENT_DELETED`)",
  },
  rateLimited: {
    code: 4430,
    when: "the peer's address created more new documents than `rate_document_create_burst` allows (`ERR_RATE_LIMITED`): wait, then reconnect (not 4429, which says the peer did not read)",
  },
} as const satisfies Record<string, CloseCodeSpec>;

const share = {
  normal: { code: 1000, when: "a viewer closes: it is done watching" },
  resync: {
    code: 4000,
    when: "a viewer closes after a gap in `seq` (frames lost on the way), to reconnect with `since`",
  },
  goingAway: { code: 1001, when: "the server is shutting down; reconnect later with `since`" },
  storageFailed: {
    code: 1011,
    when: "the share's storage failed; it is being reloaded: reconnect with `since` (`ERR_SHARE_STORAGE`)",
  },
  notFound: {
    code: 4404,
    when: "the share vanished between the check and the upgrade (`ERR_SHARE_NOT_FOUND`; normally refused with HTTP 404 before it): stop",
  },
  deleted: {
    code: 4410,
    when: 'the share was deleted by its owner, by the admin API, or expired (`share_expire_after_ms`); the last frame before it is `{"key":"share/deleted","content":{"id","deletedAt"}}`: stop, it will not come back (a reconnect gets 410)',
  },
  tooSlow: {
    code: 4429,
    when: "the viewer fell behind: more than `share_viewer_max_buffered_bytes` (default 34 MiB) of updates still queued for it when the next came, or it read nothing of what it was sent for `--output-grace` (`ERR_SLOW_READER`): reconnect with `since`",
  },
} as const satisfies Record<string, CloseCodeSpec>;

/** The codes of RFC 6455 every endpoint uses alike, for code that serves them all. */
export const StandardCloseCode = {
  normal: 1000,
  goingAway: 1001,
  tooBig: 1009,
  internalError: 1011,
} as const;

/** Close codes of `/wire`, the authenticated transport. */
export const WireCloseCode = codesOf(wire);
/** Close codes of the automerge-repo sync endpoint (every other WebSocket path). */
export const AutomergeCloseCode = codesOf(automerge);
/** Close codes of `/share_poll`, the live-share viewer WebSocket. */
export const ShareCloseCode = codesOf(share);

/** Every endpoint's close codes, for the docs: endpoint → name → code and when. */
export const closeCodeTable = {
  "/wire": wire,
  "automerge (any other path)": automerge,
  "/share_poll": share,
} as const;

/** Close codes after which a client must not reconnect: the server will refuse it again. */
export const finalWireCloseCodes: ReadonlySet<number> = new Set([
  WireCloseCode.authFailed,
  WireCloseCode.notAuthorized,
  WireCloseCode.noCommonVersion,
]);
