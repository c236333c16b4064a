// The live-share viewer client: one WebSocket to `/share_poll?id=<id>&v=2`, the share's state as
// a Map key → content, reconnect with full-jitter backoff and catch-up
// (`&since=<seq>&epoch=<epoch>`). Version 2 of the frames: a full state is one `{key, content}`
// frame per key, gathered aside and applied at once when its `{type: "state"}` frame ends it.
// Runs in browsers (the web viewer) and in Node (`syncline share watch`): no node:* imports, the
// WebSocket constructor, fetch, timers and randomness are injected.

import { ShareCloseCode } from "../../protocol/close-codes.js";
import type { ErrorCode } from "../../protocol/error-table.js";
import { createError, optionChecked, type SynclineError } from "../../protocol/errors.js";
import {
  isKeyFrame,
  isUpdateFrame,
  parseStateFrame,
  type SnapshotFrame,
  type StateFrame,
  type UpdateFrame,
} from "../../protocol/share-frames.js";
import { type BackoffOptions, createBackoff } from "../../util/backoff.js";
import { TypedEmitter } from "../../util/typed-emitter.js";
import { frameKeyKind, isGoneStatus } from "./viewer-control-frames.js";
import { shareDataUrl, viewerSocketUrl } from "./viewer-urls.js";

/**
 * Where the client stands. `connecting`: first connection in progress; `live`: the state is known
 * and updates arrive; `reconnecting`: the connection dropped, waiting to reconnect with catch-up;
 * `deleted`, `not-found`, `closed`: final, the client will not connect again.
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
   * `GET /api/share/<id>/data`) from a server that is down; browsers hide the upgrade's status.
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

/** Creates a viewer client for share `options.id` on `options.server`; nothing opens until `connect()`. */
export function createViewerClient(options: ViewerClientOptions): ViewerClient {
  return new ShareViewerClient(options);
}

const socketOpen = 1;

class ShareViewerClient implements ViewerClient {
  readonly #emitter = new TypedEmitter<ViewerClientEvents>();
  readonly #options: ViewerClientOptions;
  readonly #WebSocket: ViewerSocketConstructor;
  readonly #backoff;
  readonly #setTimeout: (callback: () => void, ms: number) => unknown;
  readonly #clearTimeout: (handle: unknown) => void;
  readonly #state = new Map<string, unknown>();
  #status: ViewerStatus | "idle" = "idle";
  #seq = 0;
  /** The epoch `#seq` belongs to, from the last snapshot (undefined: the server sent none). */
  #epoch: string | undefined;
  /** True once a snapshot arrived: reconnections ask for catch-up from `#seq`. */
  #hasSnapshot = false;
  /** The keys of a full state being received, until its `state` frame ends it. */
  #incoming: Map<string, unknown> | undefined;
  #socket: ViewerSocket | undefined;
  #timer: unknown;
  #failures = 0;
  #lastError: SynclineError | undefined;

  constructor(options: ViewerClientOptions) {
    this.#options = options;
    viewerSocketUrl(options.server, options.id); // throws early on a bad server URL
    const WebSocketClass =
      options.WebSocket ??
      (globalThis as { WebSocket?: ViewerSocketConstructor }).WebSocket ??
      undefined;
    if (WebSocketClass === undefined) {
      throw createError(
        "ERR_INVALID_OPTION",
        "viewer client: no WebSocket constructor (Node 20 has none: pass options.WebSocket, e.g. ws's WebSocket)",
      );
    }
    this.#WebSocket = WebSocketClass;
    this.#backoff = optionChecked("viewer client", () =>
      createBackoff(options.backoff, options.random),
    );
    this.#setTimeout =
      options.setTimeout ?? ((callback, ms) => globalThis.setTimeout(callback, ms));
    this.#clearTimeout =
      options.clearTimeout ??
      ((handle) => globalThis.clearTimeout(handle as Parameters<typeof clearTimeout>[0]));
  }

  get status(): ViewerStatus {
    return this.#status === "idle" ? "connecting" : this.#status;
  }

  get state(): ReadonlyMap<string, unknown> {
    return this.#state;
  }

  get seq(): number {
    return this.#seq;
  }

  get failures(): number {
    return this.#failures;
  }

  get epoch(): string | undefined {
    return this.#epoch;
  }

  get url(): string {
    const { server, id } = this.#options;
    return this.#hasSnapshot
      ? viewerSocketUrl(server, id, this.#seq, this.#epoch)
      : viewerSocketUrl(server, id);
  }

  on<K extends keyof ViewerClientEvents>(event: K, listener: ViewerClientEvents[K]): () => void {
    return optionChecked("viewer client", () => this.#emitter.on(event, listener));
  }

  off<K extends keyof ViewerClientEvents>(event: K, listener: ViewerClientEvents[K]): void {
    this.#emitter.off(event, listener);
  }

  connect(): void {
    if (this.#status !== "idle") return;
    this.#setStatus("connecting");
    this.#open();
  }

  close(): void {
    this.#finish("closed");
  }

  retryNow(): void {
    if (this.#status !== "reconnecting" || this.#timer === undefined) return;
    this.#clearTimeout(this.#timer);
    this.#backoff.reset();
    this.#open();
  }

  #isFinal(): boolean {
    return (finalViewerStatuses as readonly string[]).includes(this.#status);
  }

  #setStatus(next: ViewerStatus): void {
    const previous = this.status;
    if (this.#status === next) return;
    this.#status = next;
    this.#emitter.emit("status", next, previous);
  }

  #open(): void {
    this.#timer = undefined;
    if (this.#isFinal()) return;
    let socket: ViewerSocket;
    try {
      socket = new this.#WebSocket(this.url);
    } catch (error) {
      this.#emitError("ERR_CONNECT", `viewer client: cannot open ${this.url}: ${describe(error)}`);
      this.#scheduleReconnect(false);
      return;
    }
    this.#socket = socket;
    this.#incoming = undefined; // a full state cut short by the last connection is dropped
    let opened = false;
    let errorText: string | undefined;
    socket.onopen = () => {
      if (this.#socket !== socket) return;
      opened = true;
      // A reconnection with `since` gets only the missed frames, never a snapshot: it is live now.
      if (this.#hasSnapshot) this.#live();
    };
    socket.onmessage = (event) => {
      if (this.#socket === socket) this.#onMessage(event.data);
    };
    socket.onerror = (event) => {
      errorText = describe((event as { error?: unknown })?.error ?? event);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#onClose(event.code, event.reason, opened, errorText);
    };
  }

  #live(): void {
    this.#backoff.reset();
    this.#failures = 0;
    this.#setStatus("live");
  }

  #onMessage(data: unknown): void {
    let frame: unknown;
    try {
      frame = JSON.parse(
        typeof data === "string" ? data : new TextDecoder().decode(data as Uint8Array),
      );
    } catch (error) {
      this.#emitError(
        "ERR_SHARE_FRAME",
        `viewer client: a frame from ${this.url} is not JSON: ${describe(error)}`,
      );
      return;
    }
    const state = parseStateFrame(frame);
    const keyKind = isKeyFrame(frame) ? frameKeyKind(frame.key) : undefined;
    if (state !== undefined) this.#onSnapshot(state);
    else if (keyKind === "deleted") this.#finish("deleted");
    else if (isUpdateFrame(frame)) this.#onUpdate(frame, keyKind === "content");
    else if (isKeyFrame(frame)) {
      if (keyKind === "content") this.#onSnapshotKey(frame);
    } else {
      this.#emitError(
        "ERR_SHARE_FRAME",
        `viewer client: unexpected frame ${JSON.stringify(frame).slice(0, 100)}`,
      );
    }
  }

  /** One key of a full state: kept aside until the state ends, so `state` is never half new. */
  #onSnapshotKey(frame: SnapshotFrame): void {
    this.#incoming ??= new Map();
    this.#incoming.set(frame.key, frame.content);
  }

  /** The end of a full state: it replaces ours. */
  #onSnapshot(frame: StateFrame): void {
    const incoming = this.#incoming ?? new Map<string, unknown>();
    this.#incoming = undefined;
    this.#state.clear();
    for (const [key, content] of incoming) this.#state.set(key, content);
    this.#seq = frame.seq;
    this.#epoch = frame.epoch;
    this.#hasSnapshot = true;
    this.#emitter.emit("snapshot", this.#state, this.#seq);
    this.#live();
  }

  /** A live write; `store` false for a control frame this client does not know (seq counts). */
  #onUpdate(frame: UpdateFrame, store: boolean): void {
    const { seq } = frame;
    // A frame we already have (catch-up overlapping what we saw): skip it.
    if (this.#hasSnapshot && seq <= this.#seq && this.#incoming === undefined) return;
    if (this.#incoming !== undefined || (this.#hasSnapshot && seq > this.#seq + 1)) {
      // Frames were lost between us and the server, or an update cut a full state short:
      // reconnect and catch up from what we have.
      const why =
        this.#incoming === undefined
          ? `update seq ${seq} after ${this.#seq} skips frames`
          : `update seq ${seq} before the end of a full state`;
      this.#incoming = undefined;
      this.#emitError("ERR_SHARE_FRAME", `viewer client: ${why}; reconnecting to catch up`);
      this.#dropSocket(ShareCloseCode.resync, "sequence gap");
      this.#scheduleReconnect(false);
      return;
    }
    this.#seq = seq;
    if (!store) return;
    this.#state.set(frame.key, frame.content);
    this.#emitter.emit(
      "update",
      { key: frame.key, content: frame.content, seq: this.#seq },
      this.#state,
    );
  }

  #onClose(code: number, reason: string, opened: boolean, errorText: string | undefined): void {
    if (this.#isFinal()) return;
    // ws reports a refused upgrade's status in its error ("Unexpected server response: 404").
    const refused404 = !opened && errorText !== undefined && /\b404\b/.test(errorText);
    const refused410 = !opened && errorText !== undefined && /\b410\b/.test(errorText);
    if (code === ShareCloseCode.deleted || refused410) this.#finish("deleted");
    else if (code === ShareCloseCode.notFound || refused404) this.#gone();
    if (this.#isFinal()) return;
    const why = `code ${code}${reason ? ` (${reason})` : ""}${errorText ? `: ${errorText}` : ""}`;
    this.#emitError(
      opened ? "ERR_CONNECTION_CLOSED" : "ERR_CONNECT",
      `viewer client: connection to ${this.url} closed, ${why}`,
    );
    this.#scheduleReconnect(!opened);
  }

  #scheduleReconnect(probe: boolean): void {
    if (this.#isFinal()) return;
    this.#failures += 1;
    this.#setStatus("reconnecting");
    if (probe) void this.#probe();
    const delay = this.#backoff.next();
    this.#timer = this.#setTimeout(() => this.#open(), delay);
    this.#emitter.emit("retry", {
      attempt: this.#failures,
      delayMs: delay,
      error: this.#lastError,
    });
  }

  /** After a failed connection: is the share deleted (410) or unknown (404), not the server down? */
  async #probe(): Promise<void> {
    const fetchFn =
      this.#options.fetch === null
        ? undefined
        : (this.#options.fetch ?? (globalThis as { fetch?: ViewerClientOptions["fetch"] }).fetch);
    if (!fetchFn) return;
    try {
      const response = await fetchFn(shareDataUrl(this.#options.server, this.#options.id));
      if (isGoneStatus(response.status)) this.#finish("deleted");
      else if (response.status === 404) this.#gone();
    } catch {
      // Unreachable: the reconnect already scheduled will try again.
    }
  }

  /**
   * The server has no such share. One this client has seen was deleted while it was away (e.g.
   * cut with 1011 during the delete, then 404 on the reconnect); otherwise it never existed here.
   */
  #gone(): void {
    this.#finish(this.#hasSnapshot ? "deleted" : "not-found");
  }

  #finish(status: "deleted" | "not-found" | "closed"): void {
    if (this.#isFinal()) return;
    if (this.#timer !== undefined) this.#clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dropSocket(ShareCloseCode.normal, "viewer closed");
    this.#setStatus(status);
  }

  #dropSocket(code: number, reason: string): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = () => {}; // ws emits an error for a close before the handshake ends
    try {
      socket.close(socket.readyState === socketOpen ? code : undefined, reason);
    } catch {
      // Closing a socket that never connected can throw in some implementations; it is gone anyway.
    }
  }

  #emitError(code: ErrorCode, message: string): void {
    this.#lastError = createError(code, message);
    this.#emitter.emit("error", this.#lastError);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "object" && error !== null && "message" in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}
