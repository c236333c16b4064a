// Transport fixtures: client keys made by ssh-keygen, an authorized_keys file, a server with the
// transport on, clients that sign with those keys, and a recorder of their state changes.

import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type {
  ChannelClient,
  IncomingPayload,
  PayloadSink,
} from "../../src/channels/channel-client.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import {
  generateTestKey,
  type TestKey,
  type TestKeyKind,
} from "../../src/transport/auth/testing/ssh-keygen.js";
import type { StateChange } from "../../src/transport/connection-state.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { WireClient, type WireClientOptions } from "../../src/transport/wire-client.js";

/** Keys of several kinds plus an authorized_keys file admitting `authorized` of them. */
export function makeKeys(
  dir: string,
  kinds: readonly TestKeyKind[],
  prefix = "",
): { keys: Record<string, TestKey>; authorizedKeys: string } {
  const keys: Record<string, TestKey> = {};
  for (const kind of kinds) keys[kind] = generateTestKey(dir, kind);
  const authorizedKeys = join(dir, "authorized_keys");
  const lines = kinds.map((kind) => `${prefix}${(keys[kind] as TestKey).publicLine}`);
  writeFileSync(authorizedKeys, `# test devices\n${lines.join("\n")}\n`);
  return { keys, authorizedKeys };
}

/** A reconnecting client of `server` (any server address) signing with `key`, fast reconnects. */
export async function clientFor(
  server: string,
  key: TestKey,
  options: Partial<WireClientOptions> = {},
): Promise<WireClient> {
  const signer = await loadPrivateKey(key.privatePath);
  return new WireClient({
    address: parseServerAddress(server),
    signer,
    backoff: { initialMs: 50, maxMs: 500 },
    ...options,
  });
}

/** Random bytes of `size`, and a source reading them. */
export function payloadOf(size: number) {
  const bytes = randomBytes(size);
  return {
    bytes,
    source: {
      size,
      read: async (offset: number, length: number) => bytes.subarray(offset, offset + length),
    },
  };
}

/** A sink collecting a payload in memory (positionally, so resumed writes land right). */
export function memorySink(size: number): PayloadSink & { bytes: Buffer; written: number } {
  const bytes = Buffer.alloc(size);
  const sink = {
    bytes,
    written: 0,
    async writeChunk(offset: number, chunk: Uint8Array) {
      bytes.set(chunk, offset);
      sink.written += chunk.length;
    },
  };
  return sink;
}

/** Receives one payload of `channel` into memory. */
export async function receiveOne(
  channels: ChannelClient,
  channel: string,
): Promise<{ incoming: IncomingPayload; bytes: Buffer; written: number }> {
  let result: { incoming: IncomingPayload; sink: ReturnType<typeof memorySink> } | undefined;
  await channels.receive(channel, {
    latest: true,
    accept: (incoming) => {
      const sink = memorySink(incoming.size);
      result = { incoming, sink };
      return sink;
    },
    until: () => true,
  });
  if (!result) throw new Error("nothing received");
  return { incoming: result.incoming, bytes: result.sink.bytes, written: result.sink.written };
}

/** One state change of a client, with when it happened (ms since the epoch). */
export interface TimedStateChange extends StateChange {
  readonly at: number;
}

/** Records every state change of `client` from now on, in order. */
export function recordStates(client: WireClient): TimedStateChange[] {
  const log: TimedStateChange[] = [];
  client.on("state", (change) => log.push({ ...change, at: Date.now() }));
  return log;
}

/**
 * Polls `condition` every 20 ms until it holds; rejects naming `what` after `timeoutMs`.
 * Tests wait on states this way rather than sleeping a fixed time.
 */
export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Follows `channel` (its latest payload too) taking nothing; `offered()` tells whether any payload
 * was offered meanwhile. `waiting` settles once the client closes.
 */
export function watchOffers(channels: ChannelClient, channel: string) {
  let offered = false;
  const waiting = channels.receive(channel, {
    latest: true,
    accept: () => {
      offered = true;
      return undefined;
    },
    until: () => true,
  });
  return { offered: () => offered, waiting };
}
