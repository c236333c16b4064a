// The caps on open connections: in all, and per client address (connection-level). A connection
// over a cap is closed at once, before anything is read from it, and counted; the count of each
// address falls as its connections close, so the next one is taken again.

import type { Socket } from "node:net";
import type { LimitMetrics } from "./limit-metrics.js";
import { limitKeyOf } from "./trusted-proxies.js";

/** The settings the caps run with, named as in ServerConfig. */
export interface ConnectionLimitSettings {
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
}

/** Counts open connections, in all and per address, across every listener. */
export class ConnectionLimits {
  readonly #settings: ConnectionLimitSettings;
  readonly #metrics: LimitMetrics;
  readonly #byAddress = new Map<string, number>();
  #total = 0;

  constructor(settings: ConnectionLimitSettings, metrics: LimitMetrics) {
    this.#settings = settings;
    this.#metrics = metrics;
  }

  /** Open connections now. */
  get total(): number {
    return this.#total;
  }

  /** Open connections counted under `address` now. */
  countOf(address: string): number {
    return this.#byAddress.get(limitKeyOf(address)) ?? 0;
  }

  /** Counts a new connection in the total; false (and closed) when the server is full. */
  admit(socket: Socket): boolean {
    if (this.#total >= this.#settings.maxConnections) {
      return this.#refuse(socket, "max_connections");
    }
    this.#total++;
    this.#metrics.connections.inc();
    socket.once("close", () => {
      this.#total--;
      this.#metrics.connections.dec();
    });
    return true;
  }

  /** Counts `socket` under its client `address`; false (and closed) when that one is full. */
  admitFrom(socket: Socket, address: string): boolean {
    const key = limitKeyOf(address);
    const count = this.#byAddress.get(key) ?? 0;
    if (count >= this.#settings.maxConnectionsPerAddress) {
      return this.#refuse(socket, "max_connections_per_address");
    }
    this.#byAddress.set(key, count + 1);
    socket.once("close", () => {
      const left = (this.#byAddress.get(key) ?? 1) - 1;
      if (left > 0) this.#byAddress.set(key, left);
      else this.#byAddress.delete(key);
    });
    return true;
  }

  /** Counts a refusal by `limit` and closes the socket without a word. */
  refuse(socket: Socket, limit: string): false {
    return this.#refuse(socket, limit);
  }

  #refuse(socket: Socket, limit: string): false {
    this.#metrics.refusals.inc({ limit });
    // No answer: writing one would spend on the flood what the cap is there to save.
    socket.destroy();
    return false;
  }
}
