// Live shares across several nodes sharing one store. The store is the truth: a node writes a
// share's next seqs only if the stored seq is still the one its copy holds (a conditional write:
// one node per seq, so seqs stay gap-free and ordered whichever node takes a sync), and logs
// each write in the store beside the item. The bus only makes it early: after its write, a node
// tells the others the writes it made, and a node holding the share applies them to its copy and
// its viewers. What the bus loses (an outage, a message published while a node was loading the
// share) a node takes from the store's log: when a later message skips a seq, when its own write
// is refused, when the bus resumes, and before it answers a read (the stored seq tells whether its
// copy lacks a write acknowledged elsewhere). A copy the log cannot bring up to date is reloaded.

import { decode, encode } from "cbor-x";
import type { Bus } from "../bus/bus.js";
import { isShareId, type ShareId } from "../protocol/share-items.js";
import type { Store, StoreOp } from "../storage/store.js";
import type { LiveShare } from "./live-share.js";
import type { LoadedShares } from "./loaded-shares.js";
import type { ShareObserver } from "./share-hub-options.js";
import type { PlannedWrite } from "./share-state.js";
import { type LoggedWrite, readStoredSeq, readWritesAfter, turnOps } from "./share-storage.js";

/** The bus topic of every share's news. */
export const shareTopic = "share";

/** Share ids whose latest announced seq is remembered (those of shares not loaded here too). */
const maxAnnounced = 10_000;

/** What a node does with a share the store says changed under it. */
export interface ShareNodesHost {
  readonly store: Store;
  readonly loaded: LoadedShares;
  /** Writes kept in the store's log per share (the catch-up frames setting). */
  readonly keep: number;
  readonly observer: ShareObserver;
  /** The share was deleted through another node: end it here (viewers 4410, tombstone). */
  deletedElsewhere(id: ShareId, deletedAt: number): void;
  /** The share's copy cannot be brought up to date from the log: drop it and reload. */
  stale(share: LiveShare, reason: string): void;
}

/** How `catchUp` left a share. */
export type CatchUp = "current" | "deleted" | "stale";

type Message =
  | { readonly t: "w"; readonly id: ShareId; readonly w: readonly [number, string, string][] }
  | { readonly t: "d"; readonly id: ShareId; readonly at: number };

/** One node's part in a deployment of several; `start` once, `close` at shutdown. */
export class ShareNodes {
  readonly #bus: Bus;
  readonly #host: ShareNodesHost;
  /** The latest seq other nodes announced per share (insertion order: oldest first). */
  readonly #announced = new Map<ShareId, number>();
  #unsubscribe: (() => Promise<void>) | undefined;
  #stopResume: (() => void) | undefined;

  constructor(bus: Bus, host: ShareNodesHost) {
    this.#bus = bus;
    this.#host = host;
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(shareTopic, (payload) => this.#receive(payload));
    // Whatever was announced during the outage is lost: every share in memory asks the store.
    this.#stopResume = this.#bus.onResume(() => {
      for (const share of this.#host.loaded.all()) this.refresh(share);
    });
  }

  async close(): Promise<void> {
    this.#stopResume?.();
    await this.#unsubscribe?.().catch(() => {});
  }

  /** The conditions and log entries that make `planned` this node's turn (see turnOps). */
  turnOps(id: ShareId, planned: readonly PlannedWrite[]): StoreOp[] {
    const previous = (planned[0] as PlannedWrite).seq - 1;
    return turnOps(id, previous, planned, this.#host.keep);
  }

  /** True when another node announced a write this node's copy of `share` does not have. */
  behind(share: LiveShare): boolean {
    return (this.#announced.get(share.id) ?? 0) > share.state.seq;
  }

  /** Tells the other nodes of writes now durable (best effort: the log covers a lost one). */
  announceWrites(id: ShareId, planned: readonly PlannedWrite[]): void {
    const w = planned.map((write) => [write.seq, write.key, write.json] as const);
    this.#publish({ t: "w", id, w: w as [number, string, string][] });
  }

  /** Tells the other nodes that `id` was deleted at `at`. */
  announceDelete(id: ShareId, at: number): void {
    this.#publish({ t: "d", id, at });
  }

  /**
   * Brings `share`'s copy up to what the store holds, broadcasting what it lacked to its
   * viewers. Call it where nothing else of the share is in flight (on its tail).
   */
  async catchUp(share: LiveShare): Promise<CatchUp> {
    const found = await readWritesAfter(this.#host.store, share.id, share.state.seq);
    if (found.deleted) return "deleted";
    if (found.writes === undefined) return "stale";
    this.#commit(share, found.writes);
    return "current";
  }

  /** Schedules a catch-up of `share` on its tail (after its writes in flight). */
  refresh(share: LiveShare): void {
    this.#onTail(share, async () => this.settle(share, await this.catchUp(share)));
  }

  /**
   * Brings `share` up to every write acknowledged through any node before now, so that a read
   * through this node answers with it before the bus's news arrives, or with the bus down. One
   * read of the stored seq when the copy is current; a copy behind it catches up on its tail. A
   * copy found deleted or beyond catching up is ended (its phase says so; the caller reloads).
   * Rejects when the store cannot be read.
   */
  async bringCurrent(share: LiveShare): Promise<void> {
    const stored = await readStoredSeq(this.#host.store, share.id);
    if (stored !== undefined && stored <= share.state.seq) return;
    await this.#onTail(share, async () => {
      if (share.phase.name === "live") this.settle(share, await this.catchUp(share));
    });
  }

  #receive(payload: Uint8Array): void {
    const message = decodeMessage(payload);
    if (message === undefined) {
      this.#host.observer.error?.(
        new Error(`a share message of ${payload.byteLength} bytes is not one`),
        "share news from another node",
      );
      return;
    }
    if (message.t === "d") {
      this.#announced.delete(message.id);
      this.#host.deletedElsewhere(message.id, message.at);
      return;
    }
    const writes: LoggedWrite[] = message.w.map(([seq, key, json]) => ({ seq, key, json }));
    const last = (writes.at(-1) as LoggedWrite).seq;
    this.#remember(message.id, last);
    const share = this.#host.loaded.peek(message.id);
    if (share?.phase.name !== "live") return; // not here: a load reads the store
    this.#onTail(share, async () => {
      if (share.phase.name !== "live" || last <= share.state.seq) return;
      const next = writes.filter((write) => write.seq > share.state.seq);
      if (next[0]?.seq === share.state.seq + 1) this.#commit(share, next);
      else this.settle(share, await this.catchUp(share)); // a seq was missed
    });
  }

  #commit(share: LiveShare, writes: readonly LoggedWrite[]): void {
    if (writes.length === 0 || share.phase.name !== "live") return;
    share.fanout.broadcast(share.state.commit(writes));
  }

  /** Acts on what a catch-up found: a deleted share ends here, a stale copy is reloaded. */
  settle(share: LiveShare, outcome: CatchUp): void {
    if (outcome === "deleted") this.#host.deletedElsewhere(share.id, Date.now());
    else if (outcome === "stale") {
      this.#host.stale(share, "the store's log no longer holds the writes this copy lacks");
    }
  }

  /** Runs `step` after the share's writes in flight; the returned tail never rejects. */
  #onTail(share: LiveShare, step: () => Promise<void>): Promise<void> {
    share.tail = share.tail.then(step).catch((error: unknown) => {
      this.#host.observer.error?.(error, `share ${share.id}: catching up with other nodes`);
    });
    return share.tail;
  }

  #remember(id: ShareId, seq: number): void {
    if ((this.#announced.get(id) ?? 0) >= seq) return;
    this.#announced.delete(id);
    this.#announced.set(id, seq);
    if (this.#announced.size > maxAnnounced) {
      this.#announced.delete(this.#announced.keys().next().value as ShareId);
    }
  }

  #publish(message: Message): void {
    this.#bus.publish(shareTopic, encode(message)).catch((error: unknown) => {
      this.#host.observer.error?.(error, `share ${message.id}: telling the other nodes`);
    });
  }
}

/** A message of another node, or undefined when the bytes are not one (never throws). */
function decodeMessage(payload: Uint8Array): Message | undefined {
  let value: unknown;
  try {
    value = decode(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { t, id } = value as { t?: unknown; id?: unknown };
  if (!isShareId(id)) return undefined;
  if (t === "d") {
    const at = (value as { at?: unknown }).at;
    return Number.isSafeInteger(at) ? { t, id, at: at as number } : undefined;
  }
  const w = (value as { w?: unknown }).w;
  if (t !== "w" || !Array.isArray(w) || w.length === 0) return undefined;
  let previous = 0;
  for (const write of w as unknown[]) {
    if (!Array.isArray(write) || write.length !== 3) return undefined;
    const [seq, key, json] = write as unknown[];
    if (!Number.isSafeInteger(seq) || (seq as number) <= previous) return undefined;
    if (typeof key !== "string" || typeof json !== "string") return undefined;
    previous = seq as number;
  }
  return { t, id, w: w as [number, string, string][] };
}
