import { afterEach, describe, expect, it } from "vitest";
import { sleep } from "./testing/test-peer.js";
import { WorkerPool, type WorkerPoolOptions } from "./worker-pool.js";

const crashingWorker = new URL("./testing/crashing-worker.js", import.meta.url);
let pools: WorkerPool[] = [];
const createPool = (options: Partial<WorkerPoolOptions> = {}) => {
  const pool = new WorkerPool({ size: 2, onLost: () => {}, ...options });
  pools.push(pool);
  return pool;
};
afterEach(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
  pools = [];
});

const open = (pool: WorkerPool, doc: string) =>
  pool.request<string[]>({ op: "open", doc, data: null, peers: [] });
const crash = (pool: WorkerPool, doc: string) =>
  pool.request({
    op: "round",
    doc,
    jobs: [{ peer: "crasher", reset: false, type: "sync", data: new Uint8Array() }],
    join: [],
    snapshot: true,
    maxReplies: 1,
  });

describe("WorkerPool", () => {
  it("spreads documents over at most `size` workers and answers each request", async () => {
    const pool = createPool();
    expect(await Promise.all(["a", "b", "c"].map((doc) => open(pool, doc)))).toEqual([[], [], []]);
    expect(pool.workers).toBe(2);
    await expect(pool.request({ op: "compact", doc: "nope" })).rejects.toThrow(/not loaded/);
  });

  it("a crash rejects the requests in flight, names the lost documents, and a new worker takes over", async () => {
    const lost: string[][] = [];
    const pool = createPool({
      size: 1,
      script: crashingWorker,
      onLost: (docs) => lost.push([...docs]),
    });
    await open(pool, "a");
    await open(pool, "b");
    await expect(crash(pool, "a")).rejects.toThrow(/worker failed/);
    expect(lost).toEqual([["a", "b"]]);
    expect(pool.workers).toBe(0);
    // The documents are gone with the worker; the next request starts a fresh one.
    await expect(pool.request({ op: "compact", doc: "a" })).rejects.toThrow(/not loaded/);
    expect(await open(pool, "a")).toEqual([]);
    expect(pool.workers).toBe(1);
  });

  it("terminates a worker that holds no document for idleMs", async () => {
    const pool = createPool({ idleMs: 50 });
    await open(pool, "a");
    const closing = pool.request({ op: "close", doc: "a", keep: false });
    pool.release("a");
    await closing;
    expect(pool.workers).toBe(1);
    await sleep(200);
    expect(pool.workers).toBe(0);
  });

  it("close() terminates every worker without reporting losses; later requests reject", async () => {
    const lost: string[][] = [];
    const pool = createPool({ onLost: (docs) => lost.push([...docs]) });
    await open(pool, "a");
    await pool.close();
    expect(pool.workers).toBe(0);
    expect(lost).toEqual([]);
    await expect(open(pool, "b")).rejects.toThrow(/closed/);
  });
});
