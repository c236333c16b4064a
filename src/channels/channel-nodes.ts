// A channel hub's link to the other nodes sharing its store: it tells them of its payloads (the
// news of channel-news.ts, one small notice per record change and per written piece) and hands
// theirs to the hub. Publishing is best effort and never fails an upload: a notice the bus
// refuses is late news, which the other nodes also get from the store (remote-payloads.ts polls
// it for payloads under way); a new latest whose notice was refused is announced again when the
// bus is back, since only its notice tells another node's followers to look.

import type { Bus } from "../bus/bus.js";
import type { WireLogger } from "../transport/wire-server.js";
import { type ChannelNews, decodeNotice, encodeNotice, type Notice } from "./channel-news.js";
import type { ChannelKey, KeptIn } from "./channel-records.js";

/** The bus topic of every channel's news. */
export const channelTopic = "channel";

/** New latests whose notice the bus refused, remembered to announce again (oldest dropped). */
const maxUnannounced = 10_000;

/** What the hub does with the other nodes' news. */
export interface ChannelNodesHost {
  readonly logger: WireLogger;
  /** A notice from another node. */
  receive(notice: Notice): void;
  /** The bus is back after an outage: news may have been missed, catch up from the store. */
  resumed(): void;
}

/** One node's part in a deployment of several; `start` once, `close` at shutdown. */
export class ChannelNodes implements ChannelNews {
  readonly #bus: Bus;
  readonly #host: ChannelNodesHost;
  /** Per copy being written: the progress not sent yet while a notice of it is on its way. */
  readonly #progress = new Map<string, { sending: boolean; written: number | undefined }>();
  /** 'o' notices the bus refused, by channel. */
  readonly #unannounced = new Map<string, Notice>();
  #unsubscribe: (() => Promise<void>) | undefined;
  #stopResume: (() => void) | undefined;
  #closed = false;

  constructor(bus: Bus, host: ChannelNodesHost) {
    this.#bus = bus;
    this.#host = host;
  }

  /** This node's id on the bus (written in its records). */
  get node(): string {
    return this.#bus.instanceId;
  }

  /** Subscribes; resolves once a notice published now would arrive. */
  async start(): Promise<void> {
    this.#stopResume = this.#bus.onResume(() => {
      this.#announceAgain();
      this.#host.resumed();
    });
    this.#unsubscribe = await this.#bus.subscribe(channelTopic, (payload) => {
      const notice = decodeNotice(payload);
      if (notice) this.#host.receive(notice);
      else {
        this.#host.logger.warn(
          { bytes: payload.byteLength },
          "channels: a message from another node is not a channel notice; ignored",
        );
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopResume?.();
    await this.#unsubscribe?.().catch(() => {});
  }

  opened(key: ChannelKey, copy: string | undefined, size: number, charged: KeptIn): void {
    const notice: Notice = {
      t: "o",
      u: key.user,
      c: key.name,
      ...(copy === undefined ? {} : { k: copy }),
      n: size,
      b: charged,
    };
    this.#unannounced.delete(idOf(key));
    this.#publish(notice, () => this.#remember(key, notice));
  }

  /** At most one progress notice per copy on its way; the latest progress follows it. */
  progressed(key: ChannelKey, copy: string, written: number): void {
    let state = this.#progress.get(copy);
    if (!state) {
      state = { sending: false, written: undefined };
      this.#progress.set(copy, state);
    }
    state.written = written;
    if (!state.sending) this.#sendProgress(key, copy, state);
  }

  completed(key: ChannelKey, copy: string, sha256: Uint8Array): void {
    this.#progress.delete(copy);
    this.#publish({ t: "e", u: key.user, c: key.name, k: copy, s: sha256 });
  }

  failed(key: ChannelKey, copy: string): void {
    this.#progress.delete(copy);
    this.#publish({ t: "x", u: key.user, c: key.name, k: copy });
  }

  #sendProgress(
    key: ChannelKey,
    copy: string,
    state: { sending: boolean; written: number | undefined },
  ): void {
    const written = state.written;
    if (written === undefined || this.#progress.get(copy) !== state) return;
    state.sending = true;
    state.written = undefined;
    const notice: Notice = { t: "p", u: key.user, c: key.name, k: copy, w: written };
    void this.#send(notice).finally(() => {
      state.sending = false;
      this.#sendProgress(key, copy, state);
    });
  }

  #publish(notice: Notice, refused?: () => void): void {
    void this.#send(notice).then((sent) => {
      if (!sent) refused?.();
    });
  }

  /** Publishes; false when the bus refused (logged, never thrown: the upload goes on). */
  async #send(notice: Notice): Promise<boolean> {
    if (this.#closed) return false;
    try {
      await this.#bus.publish(channelTopic, encodeNotice(notice));
      return true;
    } catch (error) {
      this.#host.logger.warn(
        { channel: notice.c, err: error },
        "channels: could not tell the other nodes; they catch up from the store",
      );
      return false;
    }
  }

  #remember(key: ChannelKey, notice: Notice): void {
    const id = idOf(key);
    this.#unannounced.delete(id);
    this.#unannounced.set(id, notice);
    if (this.#unannounced.size > maxUnannounced) {
      this.#unannounced.delete(this.#unannounced.keys().next().value as string);
    }
  }

  #announceAgain(): void {
    const notices = [...this.#unannounced.values()];
    this.#unannounced.clear();
    for (const notice of notices) {
      this.#publish(notice, () => this.#remember({ user: notice.u, name: notice.c }, notice));
    }
  }
}

function idOf(key: ChannelKey): string {
  return `${key.user}\n${key.name}`;
}
