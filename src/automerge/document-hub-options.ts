// The document hub's options and observer hooks (the hub's public configuration surface).

import type { Store } from "../storage/store.js";

/** Typed hooks for metrics and logs; every one is optional. */
export interface HubObserver {
  documentLoaded?(seconds: number): void;
  documentEvicted?(): void;
  /** One group-commit batch became durable. */
  saved?(seconds: number, writes: number): void;
  peerAttached?(): void;
  peerDetached?(): void;
  syncIn?(bytes: number): void;
  /** A fresh peer was answered from the cached answer of the previous one. */
  freshAnswerReused?(): void;
  syncOut?(bytes: number): void;
  /** Something failed that is not one peer's fault (a load, a store write). */
  error?(error: unknown, context: string): void;
}

/** Options of the hub; the defaults are the documented config defaults. */
export interface DocumentHubOptions {
  readonly store: Store;
  /** Loaded documents are evicted (least recently used first) above this estimate. 64 MiB. */
  readonly memoryBudgetBytes?: number;
  /** A loaded document unused this long is evicted even under budget, ms. Default 30000. */
  readonly idleEvictMs?: number;
  /** Largest document, stored bytes; a sync that would grow one beyond is refused. 256 MiB. */
  readonly maxDocumentBytes?: number;
  /** Chunks appended before a background compaction rewrites the snapshot. Default 32. */
  readonly compactAfterChunks?: number;
  /** Documents worked on at once (loaded, receiving, saving); others wait. Default 256. */
  readonly maxActiveDocuments?: number;
  /**
   * A document whose stored size, or a message for it, exceeds this is loaded and synced in a
   * worker thread, so its Automerge work never blocks other sockets. Bytes; default 256 KiB
   * (Automerge takes ~1–2 s per MiB to load or receive on a 2-core machine: measured).
   */
  readonly workerThresholdBytes?: number;
  /** Worker threads for huge documents; 0 keeps everything on the main thread. Default 1 (2 with ≥ 4 cores). */
  readonly workerThreads?: number;
  /** A worker holding no document this long is terminated (its memory returns to the OS), ms. Default 5000. */
  readonly workerIdleMs?: number;
  /** The worker script, for tests (default: automerge-worker.js beside the hub). */
  readonly workerScript?: URL;
  readonly observer?: HubObserver;
}
