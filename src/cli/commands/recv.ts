// `syncline recv --channel NAME [-o FILE|-] [--follow]`: takes the channel's latest payload (or
// waits for the next) — or, with --follow, every payload — into a file (written to a temporary
// file and renamed into place when its SHA-256 checks out; a FIFO or a device is written into,
// see output-file.ts) or stdout.

import { ChannelClient } from "../../channels/channel-client.js";
import { createError } from "../../protocol/errors.js";
import type { WireClient } from "../../transport/wire-client.js";
import { interruptedError } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";
import { type OutputTarget, resolveOutputTarget } from "../output-file.js";
import { type OutputSink, outputSinkFor, StdoutSink } from "../output-sinks.js";
import { createProgressBar, type ProgressBar } from "../progress-bar.js";
import { printable } from "../terminal-text.js";
import { connectTransport, deviceId, type TransportFlags } from "../transport-options.js";

/** Options of `recv`. */
export interface RecvOptions extends TransportFlags {
  readonly channel: string;
  readonly output?: string;
  readonly follow?: boolean;
}

/** Receives until one payload (or, with --follow, until interrupted). */
export async function recvCommand(options: RecvOptions, io: CliIo): Promise<void> {
  const output = options.output ?? "-";
  if (output === "-" && options.json) {
    throw createError("ERR_USAGE", "recv: --json needs -o FILE (stdout carries the payload)");
  }
  const target = output === "-" ? undefined : resolveOutputTarget(output, "recv");
  const interrupt = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const stopSignal = io.onSignal((signal) => {
    interrupted = signal;
    interrupt.abort(signal);
  });
  let client: WireClient | undefined;
  let delivered = 0;
  let failure: unknown;
  try {
    client = await connectTransport(options, io, "recv", interrupt.signal);
    delivered = await receivePayloads(client, output, target, options, io);
  } catch (error) {
    failure = error;
  } finally {
    stopSignal();
    client?.close();
  }
  // A signal ends --follow normally. Without --follow, closing the client on a signal ends the
  // receive as if done: a script's `recv -o F && use F` must see a failure instead.
  if (interrupted !== undefined) {
    if (options.follow || delivered > 0) return;
    throw interruptedError(
      `recv: ${interrupted} before a payload arrived on channel ${options.channel}`,
      interrupted,
      failure,
    );
  }
  if (failure !== undefined) throw failure;
}

/** Receives one payload (or, with --follow, every one until the client closes); the count. */
async function receivePayloads(
  client: WireClient,
  output: string,
  target: OutputTarget | undefined,
  options: RecvOptions,
  io: CliIo,
): Promise<number> {
  const channels = new ChannelClient(client, { origin: deviceId(io.env) });
  const open = new Map<string, { sink: OutputSink; bar: ProgressBar; started: number }>();
  let delivered = 0;
  try {
    await channels.receive(options.channel, {
      latest: true,
      // Only --follow (a clipboard loop on a device that also sends) skips this device's items;
      // a one-shot recv takes the channel's latest payload, as someone testing on one machine expects.
      takeOwn: !options.follow,
      onOwnSkipped: ownSkippedNotice(options, io),
      accept: (incoming) => {
        const sink = target === undefined ? new StdoutSink(io.stdout) : outputSinkFor(target);
        const bar = createProgressBar({
          stream: io.stderr as never,
          // The name is the sender's: shown with its control characters escaped.
          label: `recv ${printable(incoming.name ?? options.channel)}`,
          total: incoming.size,
        });
        open.set(incoming.transferId, { sink, bar, started: Date.now() });
        return sink;
      },
      onProgress: (incoming, bytes) => {
        if (incoming.size > 1024 * 1024) open.get(incoming.transferId)?.bar.update(bytes);
      },
      until: async (received) => {
        const entry = open.get(received.transferId);
        open.delete(received.transferId);
        if (entry && received.size > 1024 * 1024) entry.bar.finish();
        await entry?.sink.commit();
        delivered += 1;
        const summary = {
          ok: true,
          bytes: received.size,
          sha256: Buffer.from(received.sha256).toString("hex"),
          durationMs: Date.now() - (entry?.started ?? Date.now()),
          ...(received.name ? { name: received.name } : {}),
        };
        if (options.json) writeJson(io, summary);
        else if (output !== "-")
          io.stderr.write(
            `received ${summary.bytes} bytes into ${output} (sha256 ${summary.sha256})\n`,
          );
        return !options.follow;
      },
    });
  } finally {
    // A delivery cut short (an interrupt, a failure) leaves no partial file behind.
    for (const entry of open.values()) await entry.sink.discard();
  }
  return delivered;
}

/** Says once on stderr (not with --json) that payloads of this device are skipped. */
function ownSkippedNotice(options: RecvOptions, io: CliIo): () => void {
  let told = options.json === true;
  return () => {
    if (told) return;
    told = true;
    io.stderr.write(
      `recv: skipping payloads sent from this device on ${options.channel} (--follow never takes its own back)\n`,
    );
  };
}
