// channel-node-paths: how a channel payload published on node A could reach node B, measured to
// choose the design of channels across nodes (src/channels/channel-nodes.ts). Two paths, each
// with 1 MiB and 64 MiB payloads in the publisher's 1 MiB chunks:
//
// - bus: every chunk as a bus message (a small header + the bytes), B collecting them;
// - store: A writes each chunk as one piece of a kept copy (what it does anyway for a payload it
//   keeps: payload-keeper.ts) then publishes a small notice; B reads the pieces the notice names
//   back from the store (StoreCopy, as a delivery on B reads them).
//
// Each on the in-process pair (memory bus, memory store) and on the production pair (Redis,
// Postgres with fsync on). Reported: time until B holds every byte (median of the repetitions),
// and for the store path also A's writes alone, which a kept payload costs on one node already:
// the difference is what crossing nodes adds. Then one check the times do not show: a node that
// reads its Redis connection slowly while A publishes 64 MiB of chunks (a subscriber that does
// not read at all stands for it) is disconnected by Redis, for every topic at once.
//
// Run: npx esbuild bench/channel-node-paths.ts --bundle --platform=node --format=esm \
//        --packages=external --outfile=build/channel-node-paths.mjs && node build/channel-node-paths.mjs

import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import type { Bus } from "../src/bus/bus.js";
import { createMemoryBusNetwork } from "../src/bus/memory-bus.js";
import { openRedisBus } from "../src/bus/redis-bus.js";
import { StoreCopy } from "../src/channels/payload-copy.js";
import { createMemoryStore } from "../src/storage/memory-store.js";
import { openPostgresStore } from "../src/storage/postgres-store.js";
import type { Store } from "../src/storage/store.js";
import { monotonicMs } from "./lib/clock.js";
import { startPostgres } from "./lib/postgres.js";
import { startRedis } from "./lib/redis.js";
import { median } from "./lib/stats.js";

const MiB = 1024 * 1024;
const chunkBytes = MiB;
const sizes = [MiB, 64 * MiB];
const repetitions = Number(process.env.REPETITIONS ?? 3);

/** A pair of nodes: A's and B's bus, and the store they share. */
interface Pair {
  readonly name: string;
  readonly a: Bus;
  readonly b: Bus;
  readonly store: Store;
}

let runs = 0;

/** Chunks of `payload` as bus messages; resolves with the ms until B has every byte. */
async function busPath(pair: Pair, payload: Uint8Array): Promise<number> {
  const topic = `bench-bus-${++runs}`;
  let got = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const parts: Uint8Array[] = [];
  const stop = await pair.b.subscribe(topic, (message) => {
    // What B would do with it: keep the bytes (a PayloadBuffer chunk) until delivered.
    parts.push(message.subarray(8));
    got += message.length - 8;
    if (got === payload.length) done();
  });
  const started = monotonicMs();
  for (let offset = 0; offset < payload.length; offset += chunkBytes) {
    const bytes = payload.subarray(offset, offset + chunkBytes);
    const message = new Uint8Array(8 + bytes.length);
    new DataView(message.buffer).setFloat64(0, offset);
    message.set(bytes, 8);
    await pair.a.publish(topic, message);
  }
  await finished;
  const elapsed = monotonicMs() - started;
  await stop();
  return elapsed;
}

/**
 * A writes `payload` into a kept copy piece by piece, telling B after each; B reads what each
 * notice names. Resolves with the ms until B has every byte, and A's writes alone.
 */
async function storePath(
  pair: Pair,
  payload: Uint8Array,
): Promise<{ total: number; writes: number }> {
  const topic = `bench-store-${++runs}`;
  const key = { user: "-", name: `bench-${runs}` };
  const writer = StoreCopy.create(pair.store, key);
  const reader = new StoreCopy(pair.store, key, writer.name, 0);
  let read = 0;
  let announced = 0;
  let reading = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  // B reads one chunk at a time up to the latest notice (a delivery's pace, never ahead).
  const pump = async () => {
    if (reading) return;
    reading = true;
    while (read < announced) {
      const length = Math.min(chunkBytes, announced - read);
      await reader.read(read, length);
      read += length;
    }
    reading = false;
    if (read === payload.length) done();
  };
  const stop = await pair.b.subscribe(topic, (message) => {
    announced = Math.max(announced, new DataView(message.buffer, message.byteOffset).getFloat64(0));
    void pump();
  });
  const started = monotonicMs();
  let writes = 0;
  for (let offset = 0; offset < payload.length; offset += chunkBytes) {
    const wrote = monotonicMs();
    await writer.append(payload.subarray(offset, offset + chunkBytes));
    writes += monotonicMs() - wrote;
    const notice = new Uint8Array(8);
    new DataView(notice.buffer).setFloat64(0, writer.written);
    await pair.a.publish(topic, notice);
  }
  await finished;
  const total = monotonicMs() - started;
  await stop();
  await writer.remove();
  return { total, writes };
}

function mbps(bytes: number, ms: number): string {
  return `${((bytes / MiB) * (1000 / ms)).toFixed(0)} MiB/s`;
}

async function measure(pair: Pair): Promise<void> {
  for (const size of sizes) {
    const payload = randomBytes(size);
    const bus: number[] = [];
    const store: number[] = [];
    const writes: number[] = [];
    // Alternating, so neither path always runs on a warmer process.
    for (let i = 0; i < repetitions; i++) {
      bus.push(await busPath(pair, payload));
      const result = await storePath(pair, payload);
      store.push(result.total);
      writes.push(result.writes);
    }
    const b = median(bus);
    const s = median(store);
    const w = median(writes);
    console.log(
      `${pair.name.padEnd(22)} ${String(size / MiB).padStart(3)} MiB  ` +
        `bus ${b.toFixed(1).padStart(7)} ms (${mbps(size, b)})  ` +
        `store ${s.toFixed(1).padStart(7)} ms (${mbps(size, s)}), of which A's writes ${w.toFixed(1)} ms`,
    );
  }
}

/**
 * A subscriber that does not read (a node whose event loop is busy) while A publishes `size`
 * bytes of chunks: true when Redis still has it connected afterwards.
 */
async function slowSubscriberSurvives(url: string, a: Bus, size: number): Promise<boolean> {
  const { port } = new URL(url);
  const topic = "bench-slow";
  const socket = connect({ host: "127.0.0.1", port: Number(port) });
  let closed = false;
  socket.on("close", () => {
    closed = true;
  });
  socket.on("error", () => {});
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(`SUBSCRIBE syncline:${topic}\r\n`);
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.pause();
  const chunk = randomBytes(chunkBytes);
  for (let offset = 0; offset < size; offset += chunkBytes) await a.publish(topic, chunk);
  await new Promise((resolve) => setTimeout(resolve, 500));
  // Reading again: a connection Redis cut ends here.
  socket.resume();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const survived = !closed;
  socket.destroy();
  return survived;
}

async function main(): Promise<void> {
  console.log(`channel-node-paths: ${repetitions} repetitions, ${chunkBytes / MiB} MiB chunks`);
  const network = createMemoryBusNetwork();
  const memory: Pair = {
    name: "memory bus + store",
    a: network.connect(),
    b: network.connect(),
    store: createMemoryStore(),
  };
  await measure(memory);
  await Promise.all([memory.a.close(), memory.b.close(), memory.store.close()]);

  const redis = await startRedis();
  const postgres = await startPostgres();
  try {
    const store = await openPostgresStore({ url: await postgres.createDatabase() });
    const production: Pair = {
      name: "redis + postgres",
      a: await openRedisBus({ url: redis.url }),
      b: await openRedisBus({ url: redis.url }),
      store,
    };
    await measure(production);
    const survived = await slowSubscriberSurvives(redis.url, production.a, 64 * MiB);
    console.log(
      `redis: a subscriber not reading while 64 MiB of chunks go by: ${survived ? "still connected" : "disconnected by Redis (client-output-buffer-limit pubsub)"}`,
    );
    await Promise.all([production.a.close(), production.b.close(), store.close()]);
  } finally {
    await redis.stop();
    await postgres.remove();
  }
}

await main();
