// The share hub's options and observer hooks (the hub's public configuration surface), shared by
// the parts behind it: the loaded-share registry and the publish path.

import type { Bus } from "../bus/bus.js";
import type { Store } from "../storage/store.js";

/**
 * The settings the share hub runs with, named as the server's settings are (`share_max_bytes` is
 * `shareMaxBytes` here and in ServerConfig), so the server hands its config over as it is; their
 * defaults and meanings are the settings table's (src/server/config.ts).
 */
export interface ShareSettings {
  /** Largest item content, bytes of JSON. */
  readonly shareMaxItemBytes: number;
  /**
   * Largest share: JSON bytes of the content of all its keys, writes in flight counted. A sync
   * that would grow a share beyond is refused (413) as a whole; one that shrinks it never is.
   */
  readonly shareMaxBytes: number;
  /**
   * Most content all loaded shares may hold together, bytes of JSON counted as `shareMaxBytes`
   * counts them. Loading or growing a share past it first evicts idle shares (no viewers, nothing
   * in flight), least recently used first; when that cannot make room the request is refused (503
   * ERR_SHARE_MEMORY_BUDGET). A delete is never refused for it.
   */
  readonly shareMemoryBudget: number;
  /**
   * Unsent bytes of live frames a viewer may have (queued on its socket, or waiting behind its
   * full state as that streams) before it is closed 4429.
   */
  readonly shareViewerMaxBufferedBytes: number;
  /** Least time between two batches written to a share's viewers, ms (see viewer-fanout.ts). */
  readonly shareViewerFlushMs: number;
  /** Recent writes kept per share for catch-up: most frames, most bytes. */
  readonly shareCatchupFrames: number;
  readonly shareCatchupBytes: number;
  /** A share without viewers or writes in flight for this long leaves memory, ms. */
  readonly shareIdleEvictMs: number;
  /**
   * Most content all stored shares may hold together, bytes of JSON (0: no quota). A sync that
   * would grow them beyond is refused (507) as a whole.
   */
  readonly shareTotalMaxBytes: number;
  /** A share not written for this long is deleted, its viewers closed 4410, ms (0: never). */
  readonly shareExpireAfterMs: number;
  /** How long a deleted share's id is answered 410 (ERR_SHARE_DELETED) rather than 404, ms. */
  readonly shareTombstoneMs: number;
  /** Most deleted share ids remembered; past it the oldest are forgotten. */
  readonly shareTombstoneMax: number;
}

/** What the hub reports (metrics, logs). */
export interface ShareObserver {
  shareLoaded?(): void;
  shareEvicted?(): void;
  /** The content bytes of the loaded shares changed: the new total (what the budget bounds). */
  loadedBytes?(bytes: number): void;
  published?(): void;
  delivered?(frames: number): void;
  /** Seconds from a sync's arrival at the hub to its frames handed to every viewer. */
  broadcast?(seconds: number): void;
  slowViewer?(): void;
  /** The content bytes of all stored shares changed (tracked with a quota or expiry). */
  storedBytes?(bytes: number): void;
  /** Deleted share ids remembered now (tombstones). */
  tombstones?(count: number): void;
  /** A share was deleted for not being written within `shareExpireAfterMs`. */
  expired?(id: string): void;
  error?(error: unknown, context: string): void;
}

/** What the hub is built on. */
export interface ShareHubOptions {
  readonly store: Store;
  readonly settings: ShareSettings;
  /** Default: reports nothing. */
  readonly observer?: ShareObserver;
  /**
   * The bus to the other nodes sharing `store` (several nodes: share-nodes.ts); absent on one
   * node, where nothing is logged or announced.
   */
  readonly bus?: Bus | undefined;
}
