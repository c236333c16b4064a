// `syncline send <file|-> --channel NAME`: publishes a file (or stdin, spooled to a temporary
// file first so its size is known and memory stays bounded) on a channel, resuming across
// reconnects, with a progress bar on a terminal and a `--json` summary that says how many
// receivers got it and whether the server keeps it; neither is ERR_NOT_DELIVERED (exit 10).

import { createWriteStream } from "node:fs";
import { type FileHandle, mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { ChannelClient, type SendReceipt } from "../../channels/channel-client.js";
import { createError, describeError } from "../../protocol/errors.js";
import type { WireClient } from "../../transport/wire-client.js";
import { interruptible } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";
import { createProgressBar } from "../progress-bar.js";
import { connectTransport, deviceId, type TransportFlags } from "../transport-options.js";

/** Options of `send`. */
export interface SendOptions extends TransportFlags {
  readonly channel: string;
}

/** Sends `file` ("-" = stdin) and prints a summary; a signal ends it with ERR_INTERRUPTED. */
export async function sendCommand(file: string, options: SendOptions, io: CliIo): Promise<void> {
  const started = Date.now();
  const input = await openInput(file);
  try {
    await interruptible(
      io,
      (signal) =>
        `send: ${signal} before ${input.name ?? "stdin"} was sent to channel ${options.channel}`,
      async (signal) => {
        const client = await connectTransport(options, io, "send", signal);
        try {
          await sendInput(client, input, options, io, started);
        } finally {
          client.close();
        }
      },
    );
  } finally {
    await input.close();
  }
}

async function sendInput(
  client: WireClient,
  input: Input,
  options: SendOptions,
  io: CliIo,
  started: number,
): Promise<void> {
  const channels = new ChannelClient(client, { origin: deviceId(io.env) });
  const bar = createProgressBar({
    stream: io.stderr as never,
    label: `send ${input.name ?? "stdin"}`,
    total: input.size,
  });
  const showBar = input.size > 1024 * 1024 && !options.json;
  const receipt = await channels.sendWithReceipt(
    options.channel,
    {
      size: input.size,
      read: input.read,
      readInto: input.readInto,
      ...(input.name ? { name: input.name } : {}),
    },
    showBar ? { onProgress: (bytes) => bar.update(bytes) } : {},
  );
  if (showBar) bar.finish();
  await input.assertUnchanged();
  const { delivered, kept } = receipt;
  if (delivered === 0 && kept === false) throw notDelivered(input, options.channel);
  const summary = {
    ok: true,
    bytes: input.size,
    sha256: Buffer.from(receipt.sha256).toString("hex"),
    durationMs: Date.now() - started,
    ...(delivered === undefined ? {} : { delivered }),
    ...(kept === undefined ? {} : { kept }),
  };
  if (options.json) writeJson(io, summary);
  else
    io.stderr.write(
      `sent ${summary.bytes} bytes to ${options.channel} (sha256 ${summary.sha256})${outcomeOf(receipt)}\n`,
    );
}

/** What the server did with the payload, for the text summary (nothing from an older server). */
function outcomeOf({ delivered, kept }: SendReceipt): string {
  if (delivered === undefined || kept === undefined) return "";
  const receivers = `delivered to ${delivered} receiver${delivered === 1 ? "" : "s"}`;
  return kept ? `: ${receivers}, kept for later receivers` : `: ${receivers}, not kept`;
}

function notDelivered(input: Input, channel: string) {
  return createError(
    "ERR_NOT_DELIVERED",
    `send: ${input.name ?? "stdin"} (${input.size} bytes) reached the server, but nobody was receiving channel ${channel} and the server did not keep it (too big for its --spool-bytes, or its keep limits are full): nobody will get it; send it again while a receiver is connected`,
  );
}

interface Input {
  readonly size: number;
  readonly name: string | undefined;
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Reads `into.length` bytes at `offset` into `into`; resolves with the count read. */
  readInto(offset: number, into: Uint8Array): Promise<number>;
  /**
   * ERR_STREAM_SOURCE when the file's size or mtime changed since it was opened. A transfer
   * resumed after a reconnect re-reads the file, and for a payload the server relays (bigger
   * than it retains) nothing but the receivers' own SHA-256 check would notice the change.
   */
  assertUnchanged(): Promise<void>;
  close(): Promise<void>;
}

/** Opens `file` ("-": stdin, spooled to a private temporary file first) for sending. */
export async function openInput(file: string): Promise<Input> {
  if (file !== "-") return openFile(file, basename(file), async () => {});
  const dir = await mkdtemp(join(tmpdir(), "syncline-send-"));
  const spool = join(dir, "stdin");
  await pipeline(process.stdin, createWriteStream(spool, { mode: 0o600 }));
  return openFile(spool, undefined, () => rm(dir, { recursive: true, force: true }));
}

async function openFile(
  path: string,
  name: string | undefined,
  cleanup: () => Promise<void>,
): Promise<Input> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw createError("ERR_USAGE", `send: cannot read ${path}: ${describeError(error)}`, {
      cause: error,
    });
  }
  const opened = await handle.stat();
  const { size } = opened;
  const isFile = opened.isFile();
  if (!isFile) {
    await handle.close();
    throw createError("ERR_USAGE", `send: ${path} is not a regular file`);
  }
  return {
    size,
    name,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
    },
    async readInto(offset, into) {
      const { bytesRead } = await handle.read(into, 0, into.length, offset);
      return bytesRead;
    },
    async assertUnchanged() {
      const now = await handle.stat();
      if (now.size === opened.size && now.mtimeMs === opened.mtimeMs) return;
      throw createError(
        "ERR_STREAM_SOURCE",
        `send: ${path} changed while it was being sent (size ${opened.size} -> ${now.size} bytes); ` +
          "receivers may have refused it (ERR_STREAM_INTEGRITY) or hold a mix of old and new bytes: send it again",
      );
    },
    async close() {
      await handle.close();
      await cleanup();
    },
  };
}
