// The channels in memory: those with followers, work queued, or a latest payload still in use.
// An idle channel is forgotten (its latest payload stays in the store or the spool and is read
// again on demand), so the names subscribers make up never pile up in memory.

import type { WireConnection } from "../transport/wire-connection.js";
import type { ChannelKey } from "./channel-records.js";
import type { Publication } from "./publication.js";

/** One channel in memory. */
export class Channel {
  readonly key: ChannelKey;
  /** Connections that get each payload published from now on. */
  readonly followers = new Set<WireConnection>();
  /** The latest payload: undefined until read from the store, null when there is none. */
  latest: Publication | null | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;

  constructor(key: ChannelKey) {
    this.key = key;
  }

  /** True while tasks are queued or running. */
  get busy(): boolean {
    return this.#queued > 0;
  }

  /** Runs `task` after the ones queued before it: a channel's changes never interleave. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.#queued++;
    const run = this.#tail.then(task);
    this.#tail = run.then(
      () => this.#queued--,
      () => this.#queued--,
    );
    return run;
  }

  /** True when nothing keeps the channel in memory. */
  get idle(): boolean {
    return this.followers.size === 0 && !this.busy && !this.latest?.active;
  }
}

/** The channels in memory, by user and name. */
export class ChannelRegistry {
  readonly #channels = new Map<string, Channel>();

  /** Channels in memory now. */
  get size(): number {
    return this.#channels.size;
  }

  /** The channel `key`, brought into memory if needed. */
  get(key: ChannelKey): Channel {
    const id = idOf(key);
    let channel = this.#channels.get(id);
    if (!channel) {
      channel = new Channel(key);
      this.#channels.set(id, channel);
    }
    return channel;
  }

  /** The channel `key` if it is in memory. */
  peek(key: ChannelKey): Channel | undefined {
    return this.#channels.get(idOf(key));
  }

  /** Every channel in memory. */
  values(): IterableIterator<Channel> {
    return this.#channels.values();
  }

  /** Forgets `channel` when it is idle (and still the one registered under its key). */
  forgetIfIdle(channel: Channel): void {
    const id = idOf(channel.key);
    if (!channel.idle || this.#channels.get(id) !== channel) return;
    this.#channels.delete(id);
    void channel.latest?.close();
  }
}

function idOf(key: ChannelKey): string {
  return `${key.user}\n${key.name}`;
}
