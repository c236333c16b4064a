// One device's clipboard sync, apart from I/O: what the local clipboard holds as far as this
// device knows (by content hash), when a local change is stable enough to publish (the debounce),
// and which items are never published (concealed by a password manager, too large) or never
// applied again. Local checks and applications run one at a time, in order, so an item applied
// from another device is known before the next look at the clipboard: it is never sent back.

import { type ClipKind, type ClipMeta, clipHash } from "./clip-payload.js";
import type { Clipboard, ClipItem } from "./clipboard.js";

/** What happened, for the command's one line (or JSON object) per event. */
export type ClipEvent =
  | { readonly type: "sent"; readonly kind: ClipKind; readonly bytes: number }
  | {
      readonly type: "applied";
      readonly kind: ClipKind;
      readonly bytes: number;
      /** The sending device's name ("" when it gave none). */
      readonly from: string;
    }
  | {
      readonly type: "skipped";
      readonly reason: "concealed" | "too-large" | "unsupported";
      readonly kind?: ClipKind;
      readonly bytes?: number;
      /** Which way the item was going. */
      readonly direction: "out" | "in";
      readonly detail: string;
    };

/** What a session is built on. */
export interface ClipSessionOptions {
  readonly clipboard: Clipboard;
  /** Publishes a local item; resolves once the server acknowledged it. */
  readonly publish: (item: ClipItem) => Promise<void>;
  /** Items larger than this are neither published nor applied. */
  readonly maxBytes: number;
  /** A local change is published once the clipboard held it this long unchanged, ms. */
  readonly debounceMs: number;
  readonly onEvent: (event: ClipEvent) => void;
  /** Told of a failure of a background check (a clipboard tool failing, a publish refused). */
  readonly onError: (error: unknown) => void;
}

/** The sync of one device's clipboard. */
export class ClipSession {
  readonly #options: ClipSessionOptions;
  /** Hash of what the clipboard holds as far as this device knows. */
  #known: string | undefined;
  /** A local change waiting for the debounce: its hash and item. */
  #candidate: { hash: string; item: ClipItem } | undefined;
  #timer: NodeJS.Timeout | undefined;
  /**
   * True while the clipboard holds a concealed item (its content is never read, so it has no
   * hash): the notice is given once, when one appears.
   */
  #concealedNow = false;
  /** Every check and application, in order. */
  #queue: Promise<void> = Promise.resolve();
  /** A look at the clipboard queued and not started yet: later checks join it. */
  #lookWaiting: Promise<void> | undefined;
  #stopped = false;

  constructor(options: ClipSessionOptions) {
    this.#options = options;
  }

  /** Takes what the clipboard holds now as known, without publishing it. */
  prime(): Promise<void> {
    return this.#serial(async () => {
      const { item, concealed } = await this.#options.clipboard.read();
      if (item !== undefined && !concealed) this.#known = clipHash(item.kind, item.bytes);
    });
  }

  /**
   * Looks at the clipboard (a poll tick, or the platform's notice of a change): a new item waits
   * for the debounce, then is published if the clipboard still holds it.
   */
  check(): Promise<void> {
    // A burst of change notices, or poll ticks behind a slow read, makes one more look, not one
    // each: a look that has not started yet sees what they would.
    this.#lookWaiting ??= this.#serial(() => {
      this.#lookWaiting = undefined;
      return this.#look();
    });
    return this.#lookWaiting;
  }

  /** Publishes what the clipboard holds now, at once (`clip push`); false when nothing was sent. */
  pushNow(): Promise<boolean> {
    return this.#serial(async () => {
      const { item, concealed } = await this.#options.clipboard.read();
      if (item === undefined) return false;
      if (concealed) {
        this.#skip(
          "concealed",
          item,
          "out",
          "the clipboard item is marked concealed by a password manager",
        );
        return false;
      }
      return this.#publish(item, clipHash(item.kind, item.bytes));
    });
  }

  /** Applies an item from another device, unless the clipboard holds it already. */
  apply(meta: ClipMeta, bytes: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      const hash = clipHash(meta.kind, bytes);
      if (hash === this.#known) return;
      if (bytes.length > this.#options.maxBytes) {
        this.#skip("too-large", { kind: meta.kind, bytes }, "in", this.#tooLarge(bytes.length));
        return;
      }
      await this.#options.clipboard.write({ kind: meta.kind, mime: meta.mime, bytes });
      this.#known = hash;
      // A local change still waiting is older than this item: this one wins.
      this.#cancelCandidate();
      this.#options.onEvent({
        type: "applied",
        kind: meta.kind,
        bytes: bytes.length,
        from: meta.device,
      });
    });
  }

  /** Stops the debounce; later calls do nothing. */
  stop(): void {
    this.#stopped = true;
    this.#cancelCandidate();
  }

  async #look(): Promise<void> {
    const { item, concealed } = await this.#options.clipboard.read();
    if (concealed) {
      this.#cancelCandidate();
      if (!this.#concealedNow) {
        this.#concealedNow = true;
        this.#concealed("marked concealed by a password manager: never sent");
      }
      return;
    }
    this.#concealedNow = false;
    if (item === undefined) return;
    const hash = clipHash(item.kind, item.bytes);
    if (hash === this.#known) {
      this.#cancelCandidate(); // copied, then restored before the debounce ended
      return;
    }
    if (this.#candidate?.hash === hash) return; // still waiting for it to settle
    this.#cancelCandidate();
    this.#candidate = { hash, item };
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#serial(() => this.#settled(hash)).catch((error) => this.#options.onError(error));
    }, this.#options.debounceMs);
  }

  /** The debounce ended: publishes the candidate if the clipboard still holds it. */
  async #settled(hash: string): Promise<void> {
    const candidate = this.#candidate;
    if (candidate?.hash !== hash) return;
    this.#candidate = undefined;
    const { item, concealed } = await this.#options.clipboard.read();
    if (item === undefined || concealed || clipHash(item.kind, item.bytes) !== hash) {
      // Changed again meanwhile: the next look starts the debounce over.
      if (item !== undefined) await this.#look();
      return;
    }
    await this.#publish(item, hash);
  }

  async #publish(item: ClipItem, hash: string): Promise<boolean> {
    // Known from now on, sent or not: a refused item is not retried every poll.
    this.#known = hash;
    if (item.bytes.length > this.#options.maxBytes) {
      this.#skip("too-large", item, "out", this.#tooLarge(item.bytes.length));
      return false;
    }
    await this.#options.publish(item);
    this.#options.onEvent({ type: "sent", kind: item.kind, bytes: item.bytes.length });
    return true;
  }

  #concealed(detail: string): void {
    this.#options.onEvent({ type: "skipped", reason: "concealed", direction: "out", detail });
  }

  #tooLarge(bytes: number): string {
    return `${bytes} bytes is more than --max-bytes ${this.#options.maxBytes}`;
  }

  #skip(
    reason: "concealed" | "too-large" | "unsupported",
    item: { kind: ClipKind; bytes: Uint8Array },
    direction: "out" | "in",
    detail: string,
  ): void {
    this.#options.onEvent({
      type: "skipped",
      reason,
      kind: item.kind,
      bytes: item.bytes.length,
      direction,
      detail,
    });
  }

  #cancelCandidate(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#candidate = undefined;
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => (this.#stopped ? (undefined as T) : step()));
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
