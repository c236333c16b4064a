// `npm run bench [-- --quick] [-- --only NAME|PREFIX] [-- --json]`: runs the benchmarks side by
// side with their peers and prints, and saves under bench-results/, medians and ratios; with
// `--json`, only the target rows (bench/rows.ts) are printed.

import { mkdirSync, writeFileSync } from "node:fs";
import { clipDefaults } from "../src/cli/clip-defaults.js";
import { attackMemory } from "./attack-memory.js";
import { automergeMany } from "./automerge-many.js";
import { automergeNodes } from "./automerge-nodes.js";
import { automergeMemory, automergeSync, type ServerKind } from "./automerge-sync.js";
import { clipLatency } from "./clip-latency.js";
import { type Results, rowSources, rowsOf } from "./rows.js";
import { sendRecvCli } from "./send-recv-cli.js";
import { sendRecvWormhole } from "./send-recv-wormhole.js";
import { shareCatchup } from "./share-catchup.js";
import { type FanoutContender, shareFanout } from "./share-fanout.js";
import { shareFanoutMaxRate } from "./share-fanout-max-rate.js";
import { shareNodes } from "./share-nodes.js";
import { smallItem } from "./small-item.js";
import { storePostgresVsLmdb } from "./store-postgres-vs-lmdb.js";
import { streamThroughput } from "./stream-throughput.js";
import { streamThroughputWss } from "./stream-throughput-wss.js";
import { tcpFloor } from "./tcp-floor.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
// `--server syncline|reference`: the automerge benchmarks against one server only (no ratios).
const server = args.includes("--server") ? args[args.indexOf("--server") + 1] : undefined;
const numberArg = (flag: string) =>
  args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : undefined;

// automerge-sync and automerge-memory share their runs; the 30 s wait after the clients left
// (10 s with --quick) is skipped when only automerge-sync is asked for.
const automerge = {
  documents: quick ? 300 : 1000,
  repetitions: quick ? 2 : 3,
  leaveWaitMs: quick ? 10_000 : 30_000,
  memory: only !== "automerge-sync",
  // Our server's idle eviction during automerge-memory: the default, or 5 s with --quick, so the
  // reading at idle-evict + 30 s comes 35 s after the clients left instead of 60 s.
  idleEvictMs: quick ? 5000 : 30_000,
  servers: server === undefined ? undefined : [server as ServerKind],
};

const benchmarks: Record<string, () => Promise<object>> = {
  "stream-throughput": () => streamThroughput((quick ? 256 : 1024) * 1024 * 1024, 3),
  // The same over wss:// (a throwaway self-signed certificate), against the raw relay over TLS
  // with SHA-256 at both ends.
  "stream-throughput-wss": () => streamThroughputWss((quick ? 256 : 1024) * 1024 * 1024, 3),
  // `syncline send FILE` → `syncline recv -o FILE` on tmpfs against the library path.
  "send-recv-cli": () => sendRecvCli((quick ? 256 : 1024) * 1024 * 1024, 3),
  // The same commands against magic-wormhole through its relay (when it is installed).
  "send-recv-vs-wormhole": () => sendRecvWormhole((quick ? 256 : 1024) * 1024 * 1024, 3),
  // 1,000 items of 1 KiB one after another, through the server and through the raw relay.
  "small-item": () => smallItem(1000, 1024, quick ? 2 : 3),
  "automerge-sync": () => automergeSync(automerge),
  "automerge-memory": () => automergeMemory(automerge),
  // 10,000 documents × 1 change (2,000 with --quick; `--documents N` for other sizes).
  "automerge-many": () =>
    automergeMany({
      documents: numberArg("--documents") ?? (quick ? 2000 : 10_000),
      // Documents per client process (default 2,000).
      perClient: numberArg("--per-client"),
      repetitions: quick ? 2 : 3,
      servers: automerge.servers,
    }),
  // 1,000 viewers either way; --quick measures 5 s instead of 10 and repeats twice.
  // `--rate N` / `--viewers N` change the load (for finding where a contender keeps up);
  // `--contenders syncline,rawWs` runs only those.
  "share-fanout": () =>
    shareFanout({
      viewers: numberArg("--viewers") ?? 1000,
      rate: numberArg("--rate") ?? 200,
      partBytes: 200,
      warmUpSeconds: quick ? 1 : 2,
      seconds: quick ? 5 : 10,
      repetitions: quick ? 2 : 3,
      only: args.includes("--contenders")
        ? (args[args.indexOf("--contenders") + 1]?.split(",") as FanoutContender[])
        : undefined,
    }),
  // The highest syncs/s to 1,000 viewers with p99 <= 100 ms, syncline and the raw loop: short
  // probes (3 s after 1 s of warm-up with --quick, 5 s after 2 s) up a ladder, then bisected.
  "share-fanout-max-rate": () =>
    shareFanoutMaxRate({
      viewers: 1000,
      partBytes: 200,
      warmUpSeconds: quick ? 1 : 2,
      seconds: quick ? 3 : 5,
      p99LimitMs: 100,
      ladder: [25, 50, 100, 150, 200, 300, 400, 600, 800, 1200, 1600],
      resolution: 0.1,
      tries: 2,
      maxOtherCores: 0.25,
      reruns: 8,
    }),
  // 1,000 viewers of a share of 10,000 keys reconnect at once after missing 100 writes, with
  // since and without (a full re-dump). Full size with --quick too (it takes ~40 s), 2 runs
  // instead of 3. `--viewers N` / `--items N` for other sizes.
  "share-catchup": () =>
    shareCatchup({
      viewers: numberArg("--viewers") ?? 1000,
      items: numberArg("--items") ?? 10_000,
      updates: 100,
      itemBytes: 200,
      repetitions: quick ? 2 : 3,
    }),
  // One publisher at 100 syncs/s through two nodes (Postgres + Redis) alternately, 200 viewers
  // split over them, against the same on one node on the same Postgres without Redis (and one
  // node with Redis); --quick measures 5 s instead of 10 and repeats twice.
  // `--rate N` / `--viewers N` change the load; `--layouts twoNodes,oneNode` runs only those.
  "share-nodes": () =>
    shareNodes(
      {
        viewers: numberArg("--viewers") ?? 200,
        rate: numberArg("--rate") ?? 100,
        partBytes: 200,
        warmUpSeconds: quick ? 1 : 2,
        seconds: quick ? 5 : 10,
        repetitions: quick ? 2 : 3,
      },
      args.includes("--layouts") ? args[args.indexOf("--layouts") + 1]?.split(",") : undefined,
    ),
  // Two real automerge-repo clients editing one document, each on its own node (Postgres +
  // Redis), against both on one node (same Postgres, no Redis): 200 measured changes (500 without
  // --quick) 150 ms apart after 10 unmeasured, 2 runs of each (3).
  "automerge-nodes": () =>
    automergeNodes({
      changes: quick ? 200 : 500,
      warmUp: 10,
      intervalMs: 150,
      repetitions: quick ? 2 : 3,
    }),
  // One node on Postgres against one on LMDB: automerge-sync's workload (300 docs × 10 changes
  // with --quick, 1,000 without; `--documents N`), then share-nodes' one-node layout at 200
  // syncs/s to 200 viewers (`--rate N` / `--viewers N`); 2 runs of each (3).
  "store-postgres-vs-lmdb": () =>
    storePostgresVsLmdb({
      documents: numberArg("--documents") ?? (quick ? 300 : 1000),
      changesPerDocument: 10,
      share: {
        viewers: numberArg("--viewers") ?? 200,
        rate: numberArg("--rate") ?? 200,
        partBytes: 200,
        warmUpSeconds: quick ? 1 : 2,
        seconds: quick ? 5 : 10,
      },
      repetitions: quick ? 2 : 3,
    }),
  // Copy on one X display (Xvfb) → the other's clipboard holds it, through two `syncline clip`
  // and a server: 100 B text and a 2 MiB PNG, 200 copies each (50 with --quick; `--copies N`),
  // against `send FILE` → `recv -o FILE` of the same bytes. At clip's defaults (the X server's
  // change notices), then with --poll at the default interval: the path without change notices.
  "clip-latency": () =>
    clipLatency({
      copies: numberArg("--copies") ?? (quick ? 50 : 200),
      rounds: 2,
      textBytes: 100,
      imageBytes: 2 * 1024 * 1024,
      settings: [
        {
          pollIntervalMs: clipDefaults.pollIntervalMs,
          debounceMs: clipDefaults.debounceMs,
          poll: false,
        },
        {
          pollIntervalMs: clipDefaults.pollIntervalMs,
          debounceMs: clipDefaults.debounceMs,
          poll: true,
        },
      ],
    }),
  // The machine's floor under share-fanout: plain TCP writes to 1,000 sockets, no server logic.
  "tcp-floor": () => tcpFloor(1000, quick ? 3 : 5, quick ? 2 : 3),
  // A peer that stops reading while another floods the relay: thirty 16 MiB ephemeral messages
  // (fifteen with --quick), 2 runs per server (1), alternating.
  "attack-memory": () =>
    attackMemory({
      messages: quick ? 15 : 30,
      messageBytes: 16 * 1024 * 1024,
      repetitions: quick ? 1 : 2,
    }),
};

// `--json`: the benchmarks behind the target rows (bench/rows.ts), printing only the rows.
const json = args.includes("--json");
const selected = (name: string) =>
  only === undefined
    ? !json || (rowSources as readonly string[]).includes(name)
    : // `--only automerge` runs every automerge-… benchmark; a benchmark's full name runs it
      // alone (`--only share-fanout` is not also share-fanout-max-rate).
      only === name || (!Object.hasOwn(benchmarks, only) && name.startsWith(`${only}-`));

mkdirSync("bench-results", { recursive: true });
const results: Results = {};
for (const [name, run] of Object.entries(benchmarks)) {
  if (!selected(name)) continue;
  process.stderr.write(`bench: ${name}${quick ? " (quick)" : ""}...\n`);
  const result = { ...(await run()), node: process.version, date: new Date().toISOString() };
  results[name] = result;
  const text = JSON.stringify(result, null, 2);
  writeFileSync(`bench-results/${name}.json`, `${text}\n`);
  if (!json) process.stdout.write(`${text}\n`);
}
if (json) {
  const text = JSON.stringify(rowsOf(results), null, 2);
  writeFileSync("bench-results/rows.json", `${text}\n`);
  process.stdout.write(`${text}\n`);
}
// A run that failed (a role that died) can leave a wait's timer behind: exit once all is written.
process.exit(0);
