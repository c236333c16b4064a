// The Redis bus's two connections and their health: a publisher, and a subscriber (a connection
// in subscribe mode is Redis's dedicated receiver). One state machine decides whether the bus is
// open or degraded, re-subscribes after a reconnect, and tells when the bus resumed.
//
// ioredis settings, and why:
// - retryStrategy: reconnect forever, full-jitter backoff capped at 3 s, so a fleet of nodes does
//   not stampede a Redis that just came back, and a node is never given up on.
// - enableOfflineQueue false, maxRetriesPerRequest 0, autoResendUnfulfilledCommands false:
//   nothing waits for a connection; a command is refused while down and a command in flight fails
//   when its connection drops (a PUBLISH resent minutes later would be stale, and unbounded).
// - autoResubscribe false: we re-subscribe ourselves and wait for Redis's answer before calling
//   the bus open. ioredis's own re-subscription is sent at "ready" and nobody learns when Redis
//   confirmed it (a failure only reaches the "error" event), so `onResume` listeners could catch
//   up from the database before the subscription is active and miss what is published meanwhile.
// - socketTimeout plus a PING every heartbeatMs: a dead network that sends no FIN or RST (a
//   subscriber is otherwise silent) is noticed within heartbeatMs + connectTimeoutMs.

import { Redis, type RedisOptions } from "ioredis";
import { createError, describeError } from "../protocol/errors.js";
import { backoffDelay } from "../util/backoff.js";
import { createDeferred } from "../util/deferred.js";
import type { BusErrorListener, BusStatus } from "./bus.js";
import { redisUrlPassword } from "./redis-url.js";

/** What the link needs to know. */
export interface RedisLinkOptions {
  readonly url: string;
  readonly instanceId: string;
  readonly connectTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly onError: BusErrorListener;
  /** The channels to subscribe to again after the subscriber reconnected. */
  readonly channels: () => string[];
  /** Called when the bus is open again after being degraded. */
  readonly onResume: () => void;
}

type Phase = "opening" | "open" | "degraded" | "closed";
type Role = "publisher" | "subscriber";

/** The two connections of one Redis bus. */
export class RedisLink {
  readonly publisher: Redis;
  readonly subscriber: Redis;
  readonly #options: RedisLinkOptions;
  readonly #password: string | undefined;
  readonly #opened = createDeferred<void>();
  readonly #heartbeat: NodeJS.Timeout;
  #phase: Phase = "opening";
  #publisherUp = false;
  #subscriberUp = false;
  /** Bumped at each subscriber ready or close, so a stale re-subscription cannot open the bus. */
  #subscriberEpoch = 0;
  #lastError: string | undefined;
  #since: string | undefined;

  constructor(options: RedisLinkOptions) {
    this.#options = options;
    this.#password = redisUrlPassword(options.url);
    this.#opened.promise.catch(() => {}); // close() rejects it, perhaps with nobody waiting
    this.publisher = this.#connect("publisher");
    this.subscriber = this.#connect("subscriber");
    this.#heartbeat = setInterval(() => this.#ping(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** Resolves once both connections were ready the first time. */
  get opened(): Promise<void> {
    return this.#opened.promise;
  }

  /** True while the publisher can send. */
  get publisherUp(): boolean {
    return this.#publisherUp && this.#phase !== "closed";
  }

  /** True while the subscriber is connected and every subscription is active. */
  get subscriberUp(): boolean {
    return this.#subscriberUp && this.#phase !== "closed";
  }

  /** Why the bus is (or was last) not open, without the password. */
  get lastError(): string {
    return this.#lastError ?? "no connection to Redis yet";
  }

  status(): BusStatus {
    if (this.#phase === "open") return { driver: "redis", state: "open" };
    if (this.#phase === "closed") return { driver: "redis", state: "closed" };
    return { driver: "redis", state: "degraded", lastError: this.lastError, since: this.#since };
  }

  /** Closes both connections: gracefully (QUIT after what is in flight) where they are up. */
  async close(): Promise<void> {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    clearInterval(this.#heartbeat);
    this.#opened.reject(new Error("closed"));
    await Promise.all([quit(this.publisher), quit(this.subscriber)]);
  }

  /** A message quoting a Redis error, with the password scrubbed should Redis ever echo it. */
  scrub(message: string): string {
    return this.#password === undefined ? message : message.split(this.#password).join("***");
  }

  #connect(role: Role): Redis {
    const options: RedisOptions = {
      connectionName: `syncline-bus:${this.#options.instanceId}:${role}`,
      connectTimeout: this.#options.connectTimeoutMs,
      commandTimeout: this.#options.connectTimeoutMs,
      socketTimeout: this.#options.connectTimeoutMs,
      retryStrategy: (attempt) => 50 + backoffDelay(attempt - 1, { initialMs: 200, maxMs: 3000 }),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
    };
    const client = new Redis(this.#options.url, options);
    client.on("ready", () => this.#ready(role));
    client.on("close", () => this.#down(role));
    client.on("error", (error: unknown) => {
      this.#lastError = this.scrub(`redis ${role} connection: ${describeError(error)}`);
    });
    return client;
  }

  #ready(role: Role): void {
    if (this.#phase === "closed") return;
    if (role === "publisher") {
      this.#publisherUp = true;
      this.#decide();
      return;
    }
    const epoch = ++this.#subscriberEpoch;
    void this.#resubscribe(epoch);
  }

  async #resubscribe(epoch: number): Promise<void> {
    const channels = this.#options.channels();
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
    } catch (error) {
      if (epoch !== this.#subscriberEpoch || this.#phase === "closed") return;
      // Connected but refused (an ACL, say): reconnect and try again after the backoff.
      this.#lastError = this.scrub(`redis subscriber connection: ${describeError(error)}`);
      this.subscriber.disconnect(true);
      return;
    }
    if (epoch !== this.#subscriberEpoch || this.#phase === "closed") return;
    this.#subscriberUp = true;
    this.#decide();
  }

  #down(role: Role): void {
    if (this.#phase === "closed") return;
    if (role === "publisher") this.#publisherUp = false;
    else {
      this.#subscriberUp = false;
      this.#subscriberEpoch++;
    }
    // An error event usually comes first and says more; else say what is known.
    this.#lastError ??= `redis ${role} connection: connection lost`;
    this.#decide();
  }

  /** The one place the phase changes. */
  #decide(): void {
    const up = this.#publisherUp && this.#subscriberUp;
    if (up && (this.#phase === "opening" || this.#phase === "degraded")) {
      const resumed = this.#phase === "degraded";
      this.#phase = "open";
      this.#since = undefined;
      this.#lastError = undefined;
      if (resumed) this.#options.onResume();
      else this.#opened.resolve();
    } else if (!up && this.#phase === "open") {
      this.#phase = "degraded";
      this.#since = new Date().toISOString();
      const error = createError("ERR_BUS_UNAVAILABLE", `redis bus: degraded: ${this.lastError}`);
      this.#options.onError(error, { kind: "connection" });
    }
  }

  #ping(): void {
    for (const client of [this.publisher, this.subscriber]) {
      if (client.status === "ready") client.ping().catch(() => {});
    }
  }
}

/** QUIT where the connection is up (what is in flight completes first), else disconnect. */
async function quit(client: Redis): Promise<void> {
  if (client.status === "end") return;
  if (client.status === "ready") {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through: the connection went down meanwhile.
    }
  }
  client.disconnect();
}
