// The shared bus on Redis pub/sub (ioredis), for several nodes on one Redis: a topic is the
// channel `keyPrefix + topic`, each message a bus envelope. Redis delivers at most once and in
// order per connection; a node that was disconnected is told by `onResume` (see redis-link.ts
// for the connections, their settings and the degraded/open state machine).

import { createError, describeError, optionChecked } from "../protocol/errors.js";
import { TypedEmitter } from "../util/typed-emitter.js";
import type { Bus, BusDriverOptions, BusHandler, BusStatus } from "./bus.js";
import {
  checkHandler,
  checkPayload,
  checkTopic,
  resolveInstanceId,
  safeErrorListener,
} from "./bus-checks.js";
import { encodeBusEnvelope } from "./bus-envelope.js";
import { BusSubscriptions } from "./bus-subscriptions.js";
import { RedisLink } from "./redis-link.js";
import { checkRedisUrl, redactRedisUrl } from "./redis-url.js";

/** Options of the Redis bus. */
export interface RedisBusOptions extends BusDriverOptions {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. The password never appears
   * in errors, status or logs.
   */
  readonly url: string;
  /**
   * Prepended to every topic to make its channel, so deployments (or tests) sharing one Redis
   * stay apart. Pub/sub channels ignore the database number. Default "syncline:".
   */
  readonly keyPrefix?: string;
  /**
   * How long to wait for Redis, in ms: to open both connections (then ERR_BUS_UNAVAILABLE), for
   * one connection attempt, and for any answer (a publish, a subscribe, a heartbeat) before the
   * connection counts as dead. Default 5000.
   */
  readonly connectTimeoutMs?: number;
  /** How often each connection is pinged to notice a dead network, in ms. Default 5000. */
  readonly heartbeatMs?: number;
}

/**
 * Connects to Redis and returns the bus once both connections are ready. Rejects with
 * ERR_BUS_UNAVAILABLE when Redis cannot be reached within `connectTimeoutMs` (the message names
 * the URL without its password and the last error), ERR_INVALID_CONFIG for a bad URL, and
 * ERR_INVALID_OPTION for a bad instance id or timeout.
 */
export async function openRedisBus(options: RedisBusOptions): Promise<Bus> {
  checkRedisUrl(options.url);
  if (options.keyPrefix !== undefined && typeof options.keyPrefix !== "string") {
    throw createError("ERR_INVALID_OPTION", "redis bus: keyPrefix is not a string");
  }
  const connectTimeoutMs = positive("connectTimeoutMs", options.connectTimeoutMs ?? 5000);
  const heartbeatMs = positive("heartbeatMs", options.heartbeatMs ?? 5000);
  const bus = new RedisBus(options, connectTimeoutMs, heartbeatMs);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), connectTimeoutMs);
  });
  const outcome = await Promise.race([bus.opened, timedOut]);
  clearTimeout(timer);
  if (outcome !== "timeout") return bus;
  const reason = bus.lastError;
  await bus.close();
  throw createError(
    "ERR_BUS_UNAVAILABLE",
    `redis bus: cannot reach Redis at ${redactRedisUrl(options.url)} within ${connectTimeoutMs} ms: ${reason}`,
  );
}

class RedisBus implements Bus {
  readonly instanceId: string;
  readonly #prefix: string;
  readonly #shownUrl: string;
  readonly #subscriptions: BusSubscriptions;
  readonly #resume: TypedEmitter<{ resume: () => void }>;
  readonly #link: RedisLink;
  /** SUBSCRIBE commands in flight by topic: a second subscriber of the topic waits for it too. */
  readonly #subscribing = new Map<string, Promise<unknown>>();
  #closing: Promise<void> | undefined;

  constructor(options: RedisBusOptions, connectTimeoutMs: number, heartbeatMs: number) {
    this.instanceId = resolveInstanceId("redis", options.instanceId);
    this.#prefix = options.keyPrefix ?? "syncline:";
    this.#shownUrl = redactRedisUrl(options.url);
    const onError = safeErrorListener(options.onError);
    this.#subscriptions = new BusSubscriptions(this.instanceId, onError);
    this.#resume = new TypedEmitter({
      onListenerError: (error) => onError(error, { kind: "resume" }),
    });
    this.#link = new RedisLink({
      url: options.url,
      instanceId: this.instanceId,
      connectTimeoutMs,
      heartbeatMs,
      onError,
      channels: () => this.#subscriptions.topics().map((topic) => this.#prefix + topic),
      onResume: () => this.#resume.emit("resume"),
    });
    this.#link.subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) =>
      this.#receive(channel, message),
    );
  }

  get opened(): Promise<void> {
    return this.#link.opened;
  }

  get lastError(): string {
    return this.#link.lastError;
  }

  async publish(topic: string, payload: Uint8Array): Promise<void> {
    this.#assertOpen("publish to");
    checkTopic("redis", topic);
    checkPayload("redis", topic, payload);
    this.#assertConnected("publish to", topic, this.#link.publisherUp);
    const envelope = encodeBusEnvelope(this.instanceId, payload);
    const bytes = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
    try {
      await this.#link.publisher.publish(this.#prefix + topic, bytes);
    } catch (error) {
      throw this.#failure("publish to", topic, error);
    }
  }

  async subscribe(topic: string, handler: BusHandler): Promise<() => Promise<void>> {
    this.#assertOpen("subscribe to");
    checkTopic("redis", topic);
    checkHandler("redis", topic, handler);
    this.#assertConnected("subscribe to", topic, this.#link.subscriberUp);
    const subscription = this.#subscriptions.add(topic, handler);
    const unsubscribe = async () => {
      if (subscription.remove()) await this.#unsubscribeChannel(topic);
    };
    let active = this.#subscribing.get(topic);
    if (subscription.first) {
      active = this.#link.subscriber.subscribe(this.#prefix + topic);
      this.#subscribing.set(topic, active);
      const forget = () => {
        if (this.#subscribing.get(topic) === active) this.#subscribing.delete(topic);
      };
      active.then(forget, forget);
    }
    try {
      await active;
    } catch (error) {
      subscription.remove();
      throw this.#failure("subscribe to", topic, error);
    }
    return unsubscribe;
  }

  onResume(listener: () => void): () => void {
    return optionChecked("redis bus: onResume", () => this.#resume.on("resume", listener));
  }

  status(): BusStatus {
    return this.#link.status();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#subscriptions.clear();
    this.#resume.removeAllListeners();
    await this.#link.close();
  }

  #receive(channel: Buffer, message: Buffer): void {
    if (this.#closing !== undefined) return;
    const name = channel.toString("utf8");
    if (!name.startsWith(this.#prefix)) return;
    this.#subscriptions.deliver(name.slice(this.#prefix.length), message);
  }

  /** Sent only while connected: after a reconnect, only the topics still wanted are renewed. */
  async #unsubscribeChannel(topic: string): Promise<void> {
    if (this.#closing !== undefined || this.#link.subscriber.status !== "ready") return;
    try {
      await this.#link.subscriber.unsubscribe(this.#prefix + topic);
    } catch {
      // The connection dropped: the re-subscription after the reconnect leaves the topic out.
    }
  }

  #assertOpen(action: string): void {
    if (this.#closing !== undefined) {
      throw createError("ERR_BUS_CLOSED", `redis bus: cannot ${action} a topic: the bus is closed`);
    }
  }

  #assertConnected(action: string, topic: string, connected: boolean): void {
    if (!connected) {
      throw createError(
        "ERR_BUS_UNAVAILABLE",
        `redis bus: cannot ${action} topic ${JSON.stringify(topic)}: Redis at ${this.#shownUrl} is unreachable (${this.#link.lastError})`,
      );
    }
  }

  #failure(action: string, topic: string, error: unknown): Error {
    const closed = this.#closing !== undefined;
    const reason = this.#link.scrub(describeError(error));
    return createError(
      closed ? "ERR_BUS_CLOSED" : "ERR_BUS_UNAVAILABLE",
      `redis bus: cannot ${action} topic ${JSON.stringify(topic)} at ${this.#shownUrl}: ${closed ? "the bus closed meanwhile" : reason}`,
      { cause: error },
    );
  }
}

function positive(name: string, value: number): number {
  return optionChecked("redis bus", () => {
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${name} ${String(value)} is not a positive number of ms`);
    }
    return value;
  });
}
