// The channel hub's settings, observer hooks and dependencies: its public configuration surface.

import type { Bus } from "../bus/bus.js";
import type { Store } from "../storage/store.js";
import type { WireLogger } from "../transport/wire-server.js";
import type { KeepSettings } from "./keep-budget.js";

/**
 * The settings the hub runs with, named as the server's settings are, so the server hands its
 * config over as it is; their defaults and meanings are the settings table's
 * (src/server/config.ts).
 */
export interface ChannelSettings extends KeepSettings {
  /** How long an interrupted upload waits for its publisher to resume, ms. */
  readonly resumeTtlMs: number;
  /**
   * A receiver that holds a relayed payload's full window back without reading for this long is
   * dropped from it (ERR_STREAM_SLOW_READER); also the longest wait, after a relayed payload's
   * END, for deliveries still finishing before its publisher is told how many got it, ms.
   */
  readonly relayStallMs: number;
}

/** A transfer's kind and what happened to it, for metrics. */
export type TransferKind = "upload" | "delivery";
export type TransferEvent = "started" | "completed" | "failed";

/** What the hub reports (metrics). */
export interface ChannelObserver {
  transfer?(kind: TransferKind, event: TransferEvent): void;
  /** A delivery was cancelled because its receiver held a relayed payload back. */
  slowReader?(): void;
}

/** What the hub is built on. */
export interface ChannelHubOptions {
  /** Where kept payloads up to `retainBytes` and every channel's item record go. */
  readonly store: Store;
  /** The spool folder (created, private) for kept payloads above `retainBytes`. */
  readonly spoolFolder: string;
  readonly settings: ChannelSettings;
  readonly logger: WireLogger;
  /** Default: reports nothing. */
  readonly observer?: ChannelObserver;
  /**
   * The bus to the other nodes sharing `store` (several nodes: a payload published on one node
   * reaches the followers on every node, see channel-nodes.ts); absent on one node, which then
   * behaves and costs exactly as without it.
   */
  readonly bus?: Bus;
}
