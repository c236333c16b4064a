// A node's side of delivery, shared by the drivers: the handlers subscribed per topic, and the
// path from envelope bytes to those handlers (decode, drop own echoes and unreadable messages,
// one copy of the payload per handler, a throwing handler reported and skipped).

import { createError } from "../protocol/errors.js";
import type { BusErrorListener, BusHandler } from "./bus.js";
import { decodeBusEnvelope } from "./bus-envelope.js";

/** One subscription; `active` goes false when it ends, so a delivery under way skips it. */
interface Subscription {
  readonly handler: BusHandler;
  active: boolean;
}

/** The outcome of adding a subscription. */
export interface AddedSubscription {
  /** True when it is the topic's first: the driver must subscribe to the topic on its transport. */
  readonly first: boolean;
  /** Ends the subscription; true when it was the topic's last (the driver may unsubscribe). */
  remove(): boolean;
}

/** The subscriptions of one bus instance. */
export class BusSubscriptions {
  readonly #topics = new Map<string, Set<Subscription>>();
  readonly #instanceId: string;
  readonly #onError: BusErrorListener;

  constructor(instanceId: string, onError: BusErrorListener) {
    this.#instanceId = instanceId;
    this.#onError = onError;
  }

  /** Adds `handler` to `topic`; the same function added twice is two subscriptions. */
  add(topic: string, handler: BusHandler): AddedSubscription {
    let subscriptions = this.#topics.get(topic);
    const first = subscriptions === undefined;
    if (subscriptions === undefined) {
      subscriptions = new Set();
      this.#topics.set(topic, subscriptions);
    }
    const subscription: Subscription = { handler, active: true };
    subscriptions.add(subscription);
    return { first, remove: () => this.#remove(topic, subscription) };
  }

  /** True while `topic` has a subscription. */
  has(topic: string): boolean {
    return this.#topics.has(topic);
  }

  /** The topics with at least one subscription. */
  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Ends every subscription (on close). */
  clear(): void {
    for (const subscriptions of this.#topics.values()) {
      for (const subscription of subscriptions) subscription.active = false;
    }
    this.#topics.clear();
  }

  /**
   * Delivers an envelope that arrived on `topic` to its handlers. Own echoes are dropped
   * silently; envelopes that cannot be read are dropped and reported as ERR_BUS_MESSAGE.
   */
  deliver(topic: string, bytes: Uint8Array): void {
    const subscriptions = this.#topics.get(topic);
    if (subscriptions === undefined) return;
    const result = decodeBusEnvelope(bytes);
    if (!result.ok) {
      const error = createError(
        "ERR_BUS_MESSAGE",
        `bus: dropped a message on topic ${JSON.stringify(topic)}: ${result.reason}`,
      );
      this.#onError(error, { kind: "dropped", topic });
      return;
    }
    const { sender, payload } = result.envelope;
    if (sender === this.#instanceId) return;
    // A snapshot: handlers added by a handler wait for the next message.
    for (const subscription of [...subscriptions]) {
      if (subscription.active) this.#call(subscription.handler, topic, payload, sender);
    }
  }

  #call(handler: BusHandler, topic: string, payload: Uint8Array, sender: string): void {
    try {
      const result: unknown = handler(new Uint8Array(payload), sender);
      if (isPromiseLike(result)) {
        result.then(undefined, (error) => this.#onError(error, { kind: "handler", topic }));
      }
    } catch (error) {
      this.#onError(error, { kind: "handler", topic });
    }
  }

  #remove(topic: string, subscription: Subscription): boolean {
    if (!subscription.active) return false;
    subscription.active = false;
    const subscriptions = this.#topics.get(topic);
    subscriptions?.delete(subscription);
    if (subscriptions?.size !== 0) return false;
    this.#topics.delete(topic);
    return true;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
