// The cap on WebSockets without a credential per client address: share viewers, automerge peers
// of a server without --automerge-token, and /wire connections until WELCOME. Each is counted
// from its upgrade check until its socket closes (or, on /wire, until it authenticates), so a
// refused or failed upgrade can never leave a count behind.

import type { Duplex } from "node:stream";
import { createError, type SynclineError } from "../protocol/errors.js";
import type { LimitMetrics } from "./limit-metrics.js";
import { limitKeyOf } from "./trusted-proxies.js";

/** A counted socket; `release` (idempotent) stops counting it before it closes. */
export interface UnauthenticatedSlot {
  release(): void;
}

/** Counts unauthenticated WebSockets per address, across endpoints. */
export class UnauthenticatedSockets {
  readonly #maxPerAddress: number;
  readonly #metrics: LimitMetrics;
  readonly #byAddress = new Map<string, number>();

  constructor(maxPerAddress: number, metrics: LimitMetrics) {
    this.#maxPerAddress = maxPerAddress;
    this.#metrics = metrics;
  }

  /** Counted now under `address`. */
  countOf(address: string): number {
    return this.#byAddress.get(limitKeyOf(address)) ?? 0;
  }

  /**
   * Counts the upgrade on `socket` (its TCP socket) under `address` until it closes; the
   * ERR_CONNECTION_LIMIT refusal (429) when the address is at the cap.
   */
  reserve(address: string, socket: Duplex, context: string): UnauthenticatedSlot | SynclineError {
    const key = limitKeyOf(address);
    const count = this.#byAddress.get(key) ?? 0;
    if (count >= this.#maxPerAddress) {
      this.#metrics.refusals.inc({ limit: "max_unauthenticated_websockets_per_address" });
      return createError(
        "ERR_CONNECTION_LIMIT",
        `${context}: ${address} already holds ${count} WebSockets without a credential, the most one address may (max_unauthenticated_websockets_per_address); close some or retry later`,
      );
    }
    this.#byAddress.set(key, count + 1);
    this.#metrics.unauthenticatedWebSockets.inc();
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      this.#metrics.unauthenticatedWebSockets.dec();
      const left = (this.#byAddress.get(key) ?? 1) - 1;
      if (left > 0) this.#byAddress.set(key, left);
      else this.#byAddress.delete(key);
    };
    socket.once("close", release);
    return { release };
  }
}
