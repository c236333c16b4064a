// The viewer client's public shapes: its statuses, events, options, the WebSocket it drives, and
// the client's interface. Types only (and the list of final statuses); the state machine that
// implements them is viewer-client.ts.

import type { SynclineError } from "../../protocol/errors.js";
import type { UpdateFrame } from "../../protocol/share-frames.js";
import type { BackoffOptions } from "../../util/backoff.js";

/**
 * Where the client stands. `connecting`: first connection in progress; `live`: the state is known
 * and updates arrive; `reconnecting`: the connection dropped, waiting to reconnect with catch-up;
 * `deleted`, `not-found`, `closed`: final, the client will not connect again. `deleted` comes
 * from the server's `share/deleted` frame, a 4410 close, or HTTP 410 (a refused upgrade, or the
 * probe below); `not-found` from 4404 or HTTP 404 for a share this client never saw.
 */
export type ViewerStatus =
  | "connecting"
  | "live"
  | "reconnecting"
  | "deleted"
  | "not-found"
  | "closed";

/** The final statuses: after one of them the client never reconnects. */
export const finalViewerStatuses: readonly ViewerStatus[] = ["deleted", "not-found", "closed"];

/** The events of a viewer client. */
export interface ViewerClientEvents {
  /**
   * The whole state replaced: on the first connection, or after a reconnect when the server could
   * no longer catch up from our sequence number. `seq` is the last write the state includes.
   */
  snapshot: (state: ReadonlyMap<string, unknown>, seq: number) => void;
  /** One live write, already applied to `state`; frames come in the server's durable order. */
  update: (frame: UpdateFrame, state: ReadonlyMap<string, unknown>) => void;
  /** The status changed (emitted only on a change). */
  status: (status: ViewerStatus, previous: ViewerStatus) => void;
  /**
   * Something went wrong that the client handles itself: a failed connection (ERR_CONNECT,
   * ERR_CONNECTION_CLOSED), a malformed frame or a gap in sequence numbers (ERR_SHARE_FRAME);
   * informational, for logs and the UI.
   */
  error: (error: SynclineError) => void;
  /** The connection failed or was lost; the next attempt starts after `delayMs`. */
  retry: (info: ViewerRetry) => void;
}

/** A reconnect about to happen: which attempt comes next, after how long, and why. */
export interface ViewerRetry {
  /** Connections that failed in a row since the client was last `live`, this one included. */
  readonly attempt: number;
  readonly delayMs: number;
  /** The last error reported before it. */
  readonly error: SynclineError | undefined;
}

/** The part of a WebSocket the client uses: the DOM API, which `ws` implements as well. */
export interface ViewerSocket {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ readonly data: unknown }> | null;
  onclose: Handler<{ readonly code: number; readonly reason: string }> | null;
  onerror: Handler<unknown> | null;
  close(code?: number, reason?: string): void;
}

// Declared as a method so both the DOM's and ws's event types fit (parameter bivariance).
type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `ws`'s `WebSocket` in Node. */
export type ViewerSocketConstructor = new (url: string) => ViewerSocket;

/** Options of `createViewerClient`. */
export interface ViewerClientOptions {
  /**
   * The server's base URL: `http(s)://host:port` (e.g. `location.origin`) or `ws(s)://…`; a
   * path prefix is kept (`https://example.org/sync` → `wss://example.org/sync/share_poll`).
   */
  server: string;
  /** The share id (8 characters) to watch. */
  id: string;
  /** WebSocket constructor. Default `globalThis.WebSocket` (Node 20 has none: pass `ws`'s). */
  WebSocket?: ViewerSocketConstructor;
  /**
   * Used only when a connection fails before it opens, to tell "no such share" (HTTP 404 on
   * `GET /api/share/<id>/data`) or "deleted" (410) from a server that is down; browsers hide the
   * upgrade's status.
   * Default `globalThis.fetch`; pass `null` to never probe.
   */
  fetch?: ((url: string) => Promise<{ readonly status: number }>) | null;
  /** Reconnect backoff (full jitter). Default 500 ms doubling up to 15 s. */
  backoff?: Partial<BackoffOptions>;
  /** Randomness for the jitter. Default Math.random. */
  random?: () => number;
  /** Timers. Default the global setTimeout/clearTimeout. */
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

/** A viewer client; create with `createViewerClient`, then add listeners, then `connect()`. */
export interface ViewerClient {
  /** The current status. */
  readonly status: ViewerStatus;
  /** The share's state as last received: key → content. */
  readonly state: ReadonlyMap<string, unknown>;
  /** The sequence number of the last write applied to `state`; 0 before the first snapshot. */
  readonly seq: number;
  /**
   * The share's epoch from the last snapshot (its `state` frame), or undefined before one or when
   * the server sent none. Sent with `since` on reconnect: a share deleted and created again under
   * the same id has another epoch, and the server then sends its full state.
   */
  readonly epoch: string | undefined;
  /**
   * The URL the next connection will use (with `&since=` once a sequence number is known, and
   * `&epoch=` when the snapshot carried one).
   */
  readonly url: string;
  /** Connections that ended (or failed to open) since the client was last `live`. */
  readonly failures: number;
  /** Adds a listener; returns its remover. */
  on<K extends keyof ViewerClientEvents>(event: K, listener: ViewerClientEvents[K]): () => void;
  /** Removes a listener. */
  off<K extends keyof ViewerClientEvents>(event: K, listener: ViewerClientEvents[K]): void;
  /** Opens the first connection (status `connecting`); a no-op once started or final. */
  connect(): void;
  /**
   * While `reconnecting` and waiting for the backoff: tries again at once, with the backoff
   * starting over (a page calls it on the window's `online` event, when its tab becomes visible,
   * and from a "retry now" button). A no-op in any other status or while an attempt is open.
   */
  retryNow(): void;
  /** Closes the connection for good (status `closed`); a no-op when already final. */
  close(): void;
}
