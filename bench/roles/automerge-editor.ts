// An automerge-nodes client: `<ws url>`, a real `Repo` (no storage) with
// `WebSocketClientAdapter`, in its own process, peered with the server before it says "ready".
// "create": makes the benchmark's document and says "created" {id} once the server acknowledged
// it (so a client on another node finds it in the store).
// "follow" {id}: finds the document and, from then on, records each change's arrival: the
// machine's monotonic clock when the change event shows the entry, less the time the writer
// stamped in it. Says "following" (or "following" {error} when the find failed).
// "write" {startAt, intervalMs, warmUp, count}: appends warmUp + count entries {k, sent}, one
// change each, entry k due at startAt + k × intervalMs; says "written" once the server has
// acknowledged the last one (or after 10 s).
// "drain" {warmUp, count, timeoutMs}: waits until entries warmUp … warmUp + count − 1 all
// arrived (or the timeout), then reports their latency quantiles, a missing one counting as
// later than any (Infinity, null over IPC).

import { type DocHandle, type DocumentId, Repo, type StorageId } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { roleChannel } from "../lib/child.js";
import { monotonicMs } from "../lib/clock.js";

/** The benchmark's document: entries appended one change at a time. */
interface Log {
  entries: { k: number; sent: number }[];
}

const [url] = process.argv.slice(2) as [string];
const parent = roleChannel();
const repo = new Repo({ network: [new WebSocketClientAdapter(url)] });
await repo.networkSubsystem.whenReady();
const storageId = await serverStorageId();
let disconnects = 0;
repo.networkSubsystem.on("peer-disconnected", () => disconnects++);
let handle: DocHandle<Log> | undefined;

/** Latency of entry k (NaN until it arrived), and how many arrived. */
let latencies = new Float64Array(0);
let arrived = 0;
let seen = 0;
let onArrival: (() => void) | undefined;

parent.on("create", () => void create());
parent.on("follow", (message) => void follow(message.id as DocumentId));
parent.on("write", (message) => {
  void write(
    Number(message.startAt),
    Number(message.intervalMs),
    Number(message.warmUp) + Number(message.count),
  );
});
parent.on("drain", (message) => {
  drain(Number(message.warmUp), Number(message.count), Number(message.timeoutMs));
});
parent.send({ type: "ready" });

async function create(): Promise<void> {
  handle = repo.create<Log>({ entries: [] });
  await acknowledged(handle, 30_000);
  parent.send({ type: "created", id: handle.documentId });
}

async function follow(id: DocumentId): Promise<void> {
  try {
    handle = await repo.find<Log>(id);
  } catch (error) {
    parent.send({ type: "following", error: (error as Error).message });
    return;
  }
  // Room for any run the parent asks for; grown if needed.
  latencies = new Float64Array(4096).fill(Number.NaN);
  const check = (doc: Log | undefined) => {
    const now = monotonicMs();
    const entries = doc?.entries ?? [];
    // Only the writer appends, in order: the entries past `seen` are the ones that just came.
    for (; seen < entries.length; seen++) {
      const entry = entries[seen] as { k: number; sent: number };
      if (entry.k >= latencies.length) {
        const grown = new Float64Array(entry.k * 2).fill(Number.NaN);
        grown.set(latencies);
        latencies = grown;
      }
      if (Number.isNaN(latencies[entry.k] as number)) {
        latencies[entry.k] = now - entry.sent;
        arrived++;
      }
    }
    onArrival?.();
  };
  handle.on("change", ({ doc }) => check(doc));
  check(handle.doc());
  parent.send({ type: "following", entries: seen });
}

async function write(startAt: number, intervalMs: number, total: number): Promise<void> {
  const doc = handle as DocHandle<Log>;
  let maxLagMs = 0;
  for (let k = 0; k < total; k++) {
    const due = startAt + k * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - monotonicMs())));
    maxLagMs = Math.max(maxLagMs, monotonicMs() - due);
    doc.change((d) => void d.entries.push({ k, sent: monotonicMs() }));
  }
  const acked = await acknowledged(doc, 10_000);
  parent.send({ type: "written", acked, maxLagMs: round(maxLagMs), disconnects });
}

function drain(warmUp: number, count: number, timeoutMs: number): void {
  const measured = () => {
    let n = 0;
    for (let k = warmUp; k < warmUp + count && k < latencies.length; k++) {
      if (!Number.isNaN(latencies[k] as number)) n++;
    }
    return n;
  };
  const finish = () => {
    onArrival = undefined;
    clearTimeout(timer);
    const values = Array.from(latencies.subarray(warmUp, warmUp + count)).filter(
      (v) => !Number.isNaN(v),
    );
    values.sort((a, b) => a - b);
    // Quantiles over every change expected: one that never arrived is later than any.
    const at = (q: number) => {
      const index = Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1));
      return index < values.length ? round(values[index] as number) : null;
    };
    const sum = values.reduce((total, v) => total + v, 0);
    parent.send({
      type: "report",
      received: values.length,
      expected: count,
      arrivedTotal: arrived,
      disconnects,
      latencyMs: {
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: at(1),
        min: values.length === 0 ? null : round(values[0] as number),
        mean: values.length === 0 ? null : round(sum / values.length),
      },
    });
  };
  const timer = setTimeout(finish, timeoutMs);
  onArrival = () => {
    if (measured() >= count) finish();
  };
  onArrival();
}

/** Resolves true once the server's heads for `doc` are its own (false after `timeoutMs`). */
function acknowledged(doc: DocHandle<Log>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      doc.off("remote-heads", onHeads);
      clearTimeout(timer);
      resolve(value);
    };
    const check = () => {
      const info = doc.getSyncInfo(storageId);
      if (info && info.lastHeads.join(",") === doc.heads().join(",")) done(true);
    };
    const onHeads = (payload: { storageId: StorageId }) => {
      if (payload.storageId === storageId) check();
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    doc.on("remote-heads", onHeads);
    check();
  });
}

/** The storage id the server announced when it peered. */
async function serverStorageId(): Promise<StorageId> {
  for (;;) {
    for (const metadata of Object.values(repo.peerMetadataByPeerId)) {
      if (metadata?.storageId) return metadata.storageId;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
