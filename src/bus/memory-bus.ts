// The in-process bus: several Bus instances on one simulated network, each standing for a node.
// A single node uses one (nothing to reach); tests connect two or three to play a cluster, and
// can cut the network to exercise what consumers do when the bus degrades and resumes.

import { createError, optionChecked } from "../protocol/errors.js";
import { TypedEmitter } from "../util/typed-emitter.js";
import type { Bus, BusDriverOptions, BusErrorListener, BusHandler, BusStatus } from "./bus.js";
import {
  checkHandler,
  checkPayload,
  checkTopic,
  resolveInstanceId,
  safeErrorListener,
} from "./bus-checks.js";
import { encodeBusEnvelope } from "./bus-envelope.js";
import { BusSubscriptions } from "./bus-subscriptions.js";

/** A simulated network that memory buses connect to. */
export interface MemoryBusNetwork {
  /** A new bus on this network: a node. */
  connect(options?: BusDriverOptions): Bus;
  /**
   * Simulates an outage of the whole network: `false` degrades every bus on it (publish and
   * subscribe refused with ERR_BUS_UNAVAILABLE, nothing delivered); `true` opens them again and
   * calls their `onResume` listeners. Buses connected during an outage start degraded.
   */
  setOnline(online: boolean): void;
}

/** What a memory bus needs of its network. */
interface Network {
  readonly online: boolean;
  readonly offlineSince: string | undefined;
  /** Routes an envelope to every other member subscribed to `topic`, each in a later turn. */
  route(from: MemoryBus, topic: string, bytes: Uint8Array): void;
  leave(member: MemoryBus): void;
}

/** Creates an empty network. */
export function createMemoryBusNetwork(): MemoryBusNetwork {
  const members = new Set<MemoryBus>();
  let offlineSince: string | undefined;
  const network: Network = {
    get online() {
      return offlineSince === undefined;
    },
    get offlineSince() {
      return offlineSince;
    },
    route(from, topic, bytes) {
      for (const member of members) {
        if (member !== from && member.wants(topic)) {
          // setImmediate, not a microtask: two nodes answering each other cannot starve I/O,
          // and FIFO order keeps each publisher's order.
          setImmediate(() => member.receive(topic, bytes));
        }
      }
    },
    leave(member) {
      members.delete(member);
    },
  };
  return {
    connect(options = {}) {
      const member = new MemoryBus(network, options);
      members.add(member);
      return member;
    },
    setOnline(online) {
      if (online === (offlineSince === undefined)) return;
      offlineSince = online ? undefined : new Date().toISOString();
      if (online) for (const member of members) setImmediate(() => member.resume());
    },
  };
}

class MemoryBus implements Bus {
  readonly instanceId: string;
  readonly #network: Network;
  readonly #subscriptions: BusSubscriptions;
  readonly #resume: TypedEmitter<{ resume: () => void }>;
  #closed = false;

  constructor(network: Network, options: BusDriverOptions) {
    this.instanceId = resolveInstanceId("memory", options.instanceId);
    this.#network = network;
    const onError: BusErrorListener = safeErrorListener(options.onError);
    this.#subscriptions = new BusSubscriptions(this.instanceId, onError);
    this.#resume = new TypedEmitter({
      onListenerError: (error) => onError(error, { kind: "resume" }),
    });
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.#assertOpen("publish to");
    checkTopic("memory", topic);
    checkPayload("memory", topic, payload);
    this.#assertOnline("publish to", topic);
    // Encoded (copied) now: the caller may reuse its array once this returns.
    this.#network.route(this, topic, encodeBusEnvelope(this.instanceId, payload));
  }

  async subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>> {
    this.#assertOpen("subscribe to");
    checkTopic("memory", topic);
    checkHandler("memory", topic, handler);
    this.#assertOnline("subscribe to", topic);
    const subscription = this.#subscriptions.add(topic, handler);
    return async () => {
      subscription.remove();
    };
  }

  onResume(listener: () => void): () => void {
    return optionChecked("memory bus: onResume", () => this.#resume.on("resume", listener));
  }

  status(): BusStatus {
    if (this.#closed) return { driver: "memory", state: "closed" };
    const since = this.#network.offlineSince;
    if (since === undefined) return { driver: "memory", state: "open" };
    return { driver: "memory", state: "degraded", lastError: "the network is offline", since };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#network.leave(this);
    this.#subscriptions.clear();
    this.#resume.removeAllListeners();
  }

  /** True while a message on `topic` would reach a handler here. */
  wants(topic: string): boolean {
    return !this.#closed && this.#subscriptions.has(topic);
  }

  /** Called by the network in a later turn than the publish. */
  receive(topic: string, bytes: Uint8Array): void {
    if (!this.#closed) this.#subscriptions.deliver(topic, bytes);
  }

  /** Called by the network once it is online again. */
  resume(): void {
    if (!this.#closed && this.#network.online) this.#resume.emit("resume");
  }

  #assertOpen(action: string): void {
    if (this.#closed) {
      throw createError(
        "ERR_BUS_CLOSED",
        `memory bus: cannot ${action} a topic: the bus is closed`,
      );
    }
  }

  #assertOnline(action: string, topic: string): void {
    if (!this.#network.online) {
      throw createError(
        "ERR_BUS_UNAVAILABLE",
        `memory bus: cannot ${action} topic ${JSON.stringify(topic)}: the network is offline`,
      );
    }
  }
}
