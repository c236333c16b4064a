// Which documents stay in memory: the loaded ones in least-recently-used order, their memory
// estimate against the budget, idle eviction, and retiring a document (compacted first when it
// has several chunks, then unloaded from this thread or from its worker).

import { type DocumentEntry, estimateMemory, unloadEntry } from "./document-entry.js";
import type { HubObserver } from "./document-hub-options.js";

/** What retiring a document needs from the hub. */
export interface ResidencyHost {
  readonly observer: HubObserver;
  /** True once the hub is closing: nothing is compacted any more. */
  readonly closing: boolean;
  compact(entry: DocumentEntry): Promise<void>;
  /** Frees a document held by a worker, keeping its peers' sync states. */
  unloadFromWorker(entry: DocumentEntry): Promise<void>;
  /** A retired entry is idle again; messages may have arrived meanwhile. */
  resume(entry: DocumentEntry): void;
  /** Runs a background task the hub's close() waits for. */
  track(task: Promise<void>): void;
}

/** The loaded documents of a hub and the rules that evict them. */
export class DocumentResidency {
  readonly #host: ResidencyHost;
  readonly #budget: number;
  readonly #idleMs: number;
  /** Least recently used first (a Map keeps insertion order). */
  readonly #loaded = new Map<string, DocumentEntry>();
  readonly #sweeper: ReturnType<typeof setInterval>;
  #memory = 0;

  constructor(host: ResidencyHost, budget: number, idleMs: number) {
    this.#host = host;
    this.#budget = budget;
    this.#idleMs = idleMs;
    this.#sweeper = setInterval(() => this.#evictIdle(), Math.max(50, idleMs / 2));
    this.#sweeper.unref();
  }

  /** Loaded documents now. */
  get size(): number {
    return this.#loaded.size;
  }

  /** Their estimated memory, bytes. */
  get memory(): number {
    return this.#memory;
  }

  /** Records a document just loaded (here or in a worker). */
  add(entry: DocumentEntry): void {
    this.#loaded.set(entry.documentId, entry);
    this.#memory += estimateMemory(entry);
  }

  /**
   * The document leaves memory (evicted, moved to a worker, lost, dropped after a failure);
   * call while it still counts as loaded. `evicted` counts it in the observer's evictions.
   */
  remove(entry: DocumentEntry, evicted = true): void {
    this.#memory -= estimateMemory(entry);
    this.#loaded.delete(entry.documentId);
    if (evicted) this.#host.observer.documentEvicted?.();
  }

  /** Marks the document used now (last in eviction order). */
  touch(entry: DocumentEntry): void {
    entry.lastUsed = Date.now();
    if (this.#loaded.delete(entry.documentId)) this.#loaded.set(entry.documentId, entry);
  }

  /** Runs `work`, which changes what is stored of `entry`, and keeps the memory estimate. */
  async resizing<T>(entry: DocumentEntry, work: () => Promise<T>): Promise<T> {
    const before = estimateMemory(entry);
    const result = await work();
    this.#memory += estimateMemory(entry) - before;
    return result;
  }

  /** Retires idle documents, least recently used first, until the estimate fits the budget. */
  enforceBudget(): void {
    if (this.#memory <= this.#budget) return;
    let excess = this.#memory - this.#budget;
    for (const entry of this.#loaded.values()) {
      if (excess <= 0) return;
      if (entry.busy) continue;
      excess -= estimateMemory(entry);
      this.#retire(entry);
    }
  }

  /** Stops the idle sweep and frees every loaded document (the hub's writes are flushed). */
  close(): void {
    clearInterval(this.#sweeper);
    for (const entry of this.#loaded.values()) unloadEntry(entry);
    this.#loaded.clear();
    this.#memory = 0;
  }

  #evictIdle(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const entry of [...this.#loaded.values()]) {
      if (entry.lastUsed <= cutoff) this.#retire(entry);
    }
  }

  /**
   * Evicts an idle document; one stored as several chunks is compacted first (in the
   * background), so its next load reads one snapshot. One in a worker is always unloaded in the
   * background (the worker hands back its peers' sync states).
   */
  #retire(entry: DocumentEntry): void {
    if (entry.phase.name !== "resident" || entry.inbox.length > 0) return;
    const host = this.#host;
    if (entry.phase.residence.in === "thread" && (entry.chunks <= 1 || host.closing)) {
      this.#evict(entry);
      return;
    }
    entry.advance({ type: "eviction-started" });
    const task = async () => {
      try {
        if (entry.chunks > 1 && !host.closing) await host.compact(entry);
      } catch (error) {
        host.observer.error?.(error, `compacting document ${entry.documentId}`);
      }
      if (entry.residence?.in === "worker" && entry.inbox.length === 0) {
        this.remove(entry);
        await host.unloadFromWorker(entry).catch((error: unknown) => {
          host.observer.error?.(error, `evicting document ${entry.documentId}`);
        });
      }
      entry.advance({ type: "task-ended" });
      if (entry.inbox.length === 0) this.#evict(entry);
      host.resume(entry);
    };
    host.track(task());
  }

  #evict(entry: DocumentEntry): void {
    if (entry.busy || entry.inbox.length > 0 || !entry.doc) return;
    this.remove(entry);
    unloadEntry(entry);
  }
}
