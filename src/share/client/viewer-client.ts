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
import { createBackoff } from "../../util/backoff.js";
import { TypedEmitter } from "../../util/typed-emitter.js";
import {
  finalViewerStatuses,
  type ViewerClient,
  type ViewerClientEvents,
  type ViewerClientOptions,
  type ViewerSocket,
  type ViewerSocketConstructor,
  type ViewerStatus,
} from "./viewer-client-api.js";
import { frameKeyKind, isDeletedStatus } from "./viewer-control-frames.js";
import { shareDataUrl, viewerSocketUrl } from "./viewer-urls.js";

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
    else if (code === ShareCloseCode.notFound || refused404) this.#notFound();
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
      if (isDeletedStatus(response.status)) this.#finish("deleted");
      else if (response.status === 404) this.#notFound();
    } catch {
      // Unreachable: the reconnect already scheduled will try again.
    }
  }

  /**
   * The server has no such share. One this client has seen was deleted while it was away (e.g.
   * cut with 1011 during the delete, then 404 on the reconnect); otherwise it never existed here.
   */
  #notFound(): void {
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
