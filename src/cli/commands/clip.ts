// `syncline clip [push|pull]`: the clipboard shared between a user's devices through a channel.
// `clip` watches the local clipboard (the platform's change notice where there is one, else a
// poll) and publishes each new item once it settled (the debounce), and applies the items the
// user's other devices publish; it never sends back what it applied, nor re-applies what it sent
// (the device id as origin, and the content hash: clip-session.ts). It runs until interrupted,
// reconnecting after any outage and then applying the latest item it missed. `clip push`
// publishes the clipboard once, `clip pull` applies the channel's latest item once.

import {
  ChannelClient,
  type IncomingPayload,
  type PayloadSink,
  type ReceivedPayload,
} from "../../channels/channel-client.js";
import { decodeClipPayload, encodeClipName } from "../../clip/clip-payload.js";
import { type ClipEvent, ClipSession } from "../../clip/clip-session.js";
import type { Clipboard, ClipItem } from "../../clip/clipboard.js";
import { detectClipboard } from "../../clip/detect.js";
import { usesNotices, watchOrPoll } from "../../clip/watch-or-poll.js";
import { createError, describeError } from "../../protocol/errors.js";
import type { WireClient } from "../../transport/wire-client.js";
import { interruptible } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";
import { formatBytes } from "../progress-bar.js";
import { printable } from "../terminal-text.js";
import {
  connectTransport,
  deviceId,
  deviceName,
  type TransportFlags,
} from "../transport-options.js";

/** Options of `clip`, `clip push` and `clip pull`. */
export interface ClipOptions extends TransportFlags {
  readonly channel: string;
  readonly maxBytes: number;
  readonly pollInterval: number;
  /** Poll even where the platform gives change notices. */
  readonly poll?: boolean;
  readonly debounce: number;
  readonly quiet?: boolean;
}

/** `syncline clip`: syncs until interrupted (exit 0 on SIGINT/SIGTERM). */
export async function clipCommand(options: ClipOptions, io: CliIo): Promise<void> {
  const clipboard = detectClipboard({ env: io.env, platform: process.platform });
  const device = deviceName(options, io);
  const interrupt = new AbortController();
  const stopSignal = io.onSignal((signal) => interrupt.abort(signal));
  const events = eventPrinter(options, io);
  let client: WireClient | undefined;
  let stopWatching = () => {};
  let session: ClipSession | undefined;
  try {
    if (!options.quiet && !options.json) {
      const watching = usesNotices(clipboard, options.poll === true)
        ? "change notices"
        : `polling every ${options.pollInterval} ms`;
      io.stderr.write(
        `clip: ${clipboard.backend} clipboard (${watching}), channel ${options.channel}, device ${printable(device)}\n`,
      );
    }
    if (clipboard.detectsConcealed === false && !options.quiet) {
      io.stderr.write(
        `clip: ${clipboard.backend} cannot tell which items a password manager marks as concealed: they would be sent too (install xclip to have them recognised)\n`,
      );
    }
    client = await connectTransport(options, io, "clip", interrupt.signal, true);
    const channels = new ChannelClient(client, { origin: deviceId(io.env) });
    session = new ClipSession({
      clipboard,
      publish: (item) => publishItem(channels, options.channel, item, device),
      maxBytes: options.maxBytes,
      debounceMs: options.debounce,
      onEvent: events,
      onError: (error) => reportError(options, io, error),
    });
    await session.prime();
    stopWatching = watchClipboard(clipboard, session, options, io);
    const active = session;
    const held = new Map<string, HeldPayload>();
    await channels.receive(options.channel, {
      latest: true,
      accept: (incoming) => holdPayload(held, incoming, options, events),
      until: async (received) => {
        await applyReceived(active, received, held, events);
        return false;
      },
    });
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
  } finally {
    stopWatching();
    session?.stop();
    stopSignal();
    client?.close();
  }
}

/** `syncline clip push`: publishes what the clipboard holds now, once. */
export async function clipPushCommand(options: ClipOptions, io: CliIo): Promise<void> {
  const clipboard = detectClipboard({ env: io.env, platform: process.platform });
  const device = deviceName(options, io);
  const events = eventPrinter(options, io);
  await interruptible(
    io,
    (signal) => `clip push: ${signal} before the clipboard was sent`,
    async (signal) => {
      const client = await connectTransport(options, io, "clip push", signal);
      try {
        const channels = new ChannelClient(client, { origin: deviceId(io.env) });
        const session = new ClipSession({
          clipboard,
          publish: (item) => publishItem(channels, options.channel, item, device),
          maxBytes: options.maxBytes,
          debounceMs: 0,
          onEvent: events,
          onError: () => {},
        });
        const sent = await session.pushNow();
        if (!sent && !options.quiet && !options.json) {
          io.stderr.write("clip push: nothing sent (the clipboard holds no text or image)\n");
        }
      } finally {
        client.close();
      }
    },
  );
}

/** `syncline clip pull`: applies the channel's latest item, once (whichever device sent it). */
export async function clipPullCommand(options: ClipOptions, io: CliIo): Promise<void> {
  const clipboard = detectClipboard({ env: io.env, platform: process.platform });
  const events = eventPrinter(options, io);
  await interruptible(
    io,
    (signal) => `clip pull: ${signal} before an item arrived on channel ${options.channel}`,
    async (signal) => {
      const client = await connectTransport(options, io, "clip pull", signal);
      try {
        const channels = new ChannelClient(client, { origin: deviceId(io.env) });
        const session = new ClipSession({
          clipboard,
          publish: async () => {},
          maxBytes: options.maxBytes,
          debounceMs: 0,
          onEvent: events,
          onError: () => {},
        });
        const held = new Map<string, HeldPayload>();
        await channels.receive(options.channel, {
          latest: true,
          takeOwn: true,
          accept: (incoming) => holdPayload(held, incoming, options, events),
          until: async (received) => {
            await applyReceived(session, received, held, events);
            return true;
          },
        });
      } finally {
        client.close();
      }
    },
  );
}

/** Publishes one item, its kind and this device's name in the payload's name. */
async function publishItem(
  channels: ChannelClient,
  channel: string,
  item: ClipItem,
  device: string,
): Promise<void> {
  const { bytes } = item;
  await channels.sendWithReceipt(channel, {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
    name: encodeClipName({ kind: item.kind, mime: item.mime, device }),
  });
}

/** A payload being received into memory. */
interface HeldPayload extends PayloadSink {
  readonly bytes: Uint8Array;
}

/**
 * Receives a payload into memory, remembered by transfer id until it is applied; undefined
 * (skipped, with a notice) when it is over the limit, so memory stays bounded by --max-bytes.
 */
function holdPayload(
  held: Map<string, HeldPayload>,
  incoming: IncomingPayload,
  options: ClipOptions,
  events: (event: ClipEvent) => void,
): HeldPayload | undefined {
  const { size } = incoming;
  if (size > options.maxBytes) {
    events({
      type: "skipped",
      reason: "too-large",
      bytes: size,
      direction: "in",
      detail: `${size} bytes is more than --max-bytes ${options.maxBytes}`,
    });
    return undefined;
  }
  const bytes = new Uint8Array(size);
  const payload: HeldPayload = {
    bytes,
    async writeChunk(offset, chunk) {
      if (offset + chunk.length > size) {
        throw createError("ERR_STREAM_PROTOCOL", `clip: a chunk past the payload's ${size} bytes`);
      }
      bytes.set(chunk, offset);
    },
  };
  // One payload held at a time is enough: a newer one replaces an older one not finished.
  held.clear();
  held.set(incoming.transferId, payload);
  return payload;
}

/** Applies a received payload to the clipboard, or says why it cannot go there. */
async function applyReceived(
  session: ClipSession,
  received: ReceivedPayload,
  held: Map<string, HeldPayload>,
  events: (event: ClipEvent) => void,
): Promise<void> {
  const payload = held.get(received.transferId);
  held.delete(received.transferId);
  if (payload === undefined) return;
  const decoded = decodeClipPayload(received.name, payload.bytes);
  if ("problem" in decoded) {
    events({
      type: "skipped",
      reason: "unsupported",
      bytes: received.size,
      direction: "in",
      detail: decoded.problem,
    });
    return;
  }
  await session.apply(decoded.meta, payload.bytes);
}

/** Starts watching: the platform's change notice, else a poll. Returns the stop. */
function watchClipboard(
  clipboard: Clipboard,
  session: ClipSession,
  options: ClipOptions,
  io: CliIo,
): () => void {
  const watch = watchOrPoll(clipboard, () => session.check(), {
    pollIntervalMs: options.pollInterval,
    poll: options.poll === true,
    onError: (error) => reportError(options, io, error),
    onFallback: () => {
      if (!options.quiet && !options.json) {
        io.stderr.write(
          `clip: watching failed; polling every ${options.pollInterval} ms instead\n`,
        );
      }
    },
  });
  return () => watch.stop();
}

/** One line per event on stdout (`→ sent text 12 B`), one JSON object with --json, none with --quiet. */
function eventPrinter(options: ClipOptions, io: CliIo): (event: ClipEvent) => void {
  return (event) => {
    if (options.json) {
      writeJson(io, { ...event, at: new Date().toISOString() });
      return;
    }
    if (options.quiet) return;
    const size = event.bytes === undefined ? "" : ` ${formatBytes(event.bytes)}`;
    if (event.type === "sent") io.stdout.write(`→ sent ${event.kind}${size}\n`);
    else if (event.type === "applied") {
      const from = event.from === "" ? "" : ` from ${printable(event.from)}`;
      io.stdout.write(`← applied ${event.kind}${size}${from}\n`);
    } else {
      const what = event.kind ?? "item";
      const way = event.direction === "out" ? "not sent" : "not applied";
      io.stderr.write(`clip: ${what}${size} ${way}: ${printable(event.detail)}\n`);
    }
  };
}

/** A background failure (a clipboard tool failing, a publish refused): said, and clip goes on. */
function reportError(options: ClipOptions, io: CliIo, error: unknown): void {
  if (options.json) writeJson(io, { type: "error", error: describeError(error) });
  else io.stderr.write(`clip: ${printable(describeError(error))}\n`);
}
