// The document hub's options and observer hooks (the hub's public configuration surface).

import type { Bus } from "../bus/bus.js";
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
  /** One ephemeral message, or its copy for one peer, was not relayed (see EphemeralDropReason). */
  ephemeralDropped?(reason: EphemeralDropReason): void;
  /** The ephemeral relay's dedupe map now holds `entries`, counted at `bytes`. */
  ephemeralSessions?(entries: number, bytes: number): void;
  /** Something failed that is not one peer's fault (a load, a store write). */
  error?(error: unknown, context: string): void;
}

/**
 * Why an ephemeral message was not relayed: `too-large` (a frame above
 * `automergeMaxEphemeralBytes`), `session-id` (a session id too long to be real: refused, not
 * remembered), `slow-peer` (the copy for one peer whose output is over budget).
 */
export type EphemeralDropReason = "too-large" | "session-id" | "slow-peer";

/**
 * The settings the hub runs with, named as the server's settings are (`automerge_memory_budget`
 * is `automergeMemoryBudget` here and in ServerConfig), so the server hands its config over as it
 * is; their defaults are the settings table's (src/server/config.ts).
 */
export interface AutomergeSettings {
  /** Loaded documents are evicted (least recently used first) above this estimate, bytes. */
  readonly automergeMemoryBudget: number;
  /** A loaded document unused this long is evicted even under budget, ms. */
  readonly automergeIdleEvictMs: number;
  /** Largest document, stored bytes; a sync that would grow one beyond is refused. */
  readonly automergeMaxDocumentBytes: number;
  /**
   * A document whose stored size, or a message for it, exceeds this is loaded and synced in a
   * worker thread, so its Automerge work never blocks other sockets, bytes (Automerge takes
   * ~1–2 s per MiB to load or receive on a 2-core machine: measured).
   */
  readonly automergeWorkerThreshold: number;
  /** Worker threads for such documents; 0 keeps everything on the main thread. */
  readonly automergeWorkerThreads: number;
  /** Largest ephemeral frame relayed, bytes; a bigger one is dropped. */
  readonly automergeMaxEphemeralBytes: number;
}

/** Options of the hub: its settings, and tuning that is not a setting (tests change it). */
export interface DocumentHubOptions {
  readonly store: Store;
  readonly settings: AutomergeSettings;
  /** Chunks appended before a background compaction rewrites the snapshot. Default 32. */
  readonly compactAfterChunks?: number;
  /** Documents worked on at once (loaded, receiving, saving); others wait. Default 256. */
  readonly maxActiveDocuments?: number;
  /** A worker holding no document this long is terminated (its memory returns to the OS), ms. Default 5000. */
  readonly workerIdleMs?: number;
  /** The worker script, for tests (default: automerge-worker.js beside the hub). */
  readonly workerScript?: URL;
  readonly observer?: HubObserver;
  /**
   * The bus to the other nodes sharing `store` (document-nodes.ts): each durable change is
   * announced there and theirs applied here, ephemeral messages and deletes reach their peers.
   * Absent on a single node, which then announces nothing and works as it always did.
   */
  readonly bus?: Bus | undefined;
}
