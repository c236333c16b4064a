// `npm run bench -- --json`: one row per target, `{name, unit, ours, peer, peerName, better}`,
// made from the benchmarks' full results, so a reader sees at a glance where we stand. `better`
// says which way is good for `ours` against `peer`; `goal` restates the target as a ratio.
// A row whose peer could not be measured here has `peer: null` and says why in `note`.

/** One target's figures. */
export interface Row {
  readonly name: string;
  readonly unit: string;
  readonly ours: number | null;
  readonly peer: number | null;
  readonly peerName: string;
  readonly better: "lower" | "higher";
  readonly goal: string;
  readonly note?: string;
}

/** The benchmark results the rows are made from, by benchmark name. */
export type Results = Record<string, Record<string, unknown>>;

/** The benchmarks `--json` runs to fill every row. */
export const rowSources = [
  "automerge-sync",
  "automerge-memory",
  "automerge-many",
  "share-fanout",
  "share-fanout-max-rate",
  "share-catchup",
  "stream-throughput",
  "stream-throughput-wss",
  "send-recv-cli",
  "send-recv-vs-wormhole",
  "small-item",
  "share-nodes",
  "automerge-nodes",
  "store-postgres-vs-lmdb",
  "clip-latency",
] as const;

/** Rows from `results`; a missing benchmark leaves its rows out. */
export function rowsOf(results: Results): Row[] {
  const rows: Row[] = [];
  const at = (name: string, path: string): number | null => {
    let value: unknown = results[name];
    for (const key of path.split("."))
      value = (value as Record<string, unknown> | undefined)?.[key];
    return typeof value === "number" && Number.isFinite(value) ? value : null;
  };
  const add = (source: string, row: Row) => {
    if (results[source]) rows.push({ ...row, ours: round(row.ours), peer: round(row.peer) });
  };
  const reference = "automerge-repo-sync-server (reference)";
  const sum = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  add("automerge-sync", {
    name: "automerge-server-cpu",
    unit: `server CPU s, push + fresh find, ${at("automerge-sync", "documents")} docs × 10 changes`,
    ours: sum(
      at("automerge-sync", "syncline.cpuSeconds.durable.server"),
      at("automerge-sync", "syncline.cpuSeconds.find.server"),
    ),
    peer: sum(
      at("automerge-sync", "reference.cpuSeconds.durable.server"),
      at("automerge-sync", "reference.cpuSeconds.find.server"),
    ),
    peerName: reference,
    better: "lower",
    goal: "peer/ours >= 5",
  });
  const many = at("automerge-many", "documents");
  const manyRow = (name: string, unit: string, path: string, goal: string) =>
    add("automerge-many", {
      name,
      unit: `${unit}, ${many} docs × 1 change`,
      ours: at("automerge-many", `syncline.${path}`),
      peer: at("automerge-many", `reference.${path}`),
      peerName: reference,
      better: "lower",
      goal,
    });
  manyRow(
    "automerge-server-cpu-many",
    "server CPU s, push + fresh find",
    "serverCpuSeconds",
    "peer/ours >= 5",
  );
  manyRow(
    "automerge-ack-many",
    "s until the client saw every doc acknowledged",
    "ackSeconds",
    "peer/ours >= 1",
  );
  manyRow(
    "automerge-find-many",
    "s for a fresh client to find all (found or rejected)",
    "findSeconds",
    "peer/ours >= 1",
  );
  manyRow("automerge-find-failures-many", "finds rejected, worst run", "failed", "ours = 0");
  const growth = (side: string) => {
    const load = at("automerge-memory", `${side}.afterLoadMiB`);
    const idle = at("automerge-memory", `${side}.idleMiB`);
    return load === null || idle === null ? null : Math.round((load - idle) * 10) / 10;
  };
  add("automerge-memory", {
    name: "automerge-rss-growth",
    unit: `MiB of RSS over idle after the load, ${at("automerge-memory", "documents")} docs × 10`,
    ours: growth("syncline"),
    peer: growth("reference"),
    peerName: reference,
    better: "lower",
    goal: "peer/ours >= 4",
  });
  const afterEviction = at("automerge-memory", "afterIdleEvictSeconds");
  add("automerge-memory", {
    name: "automerge-rss-after-idle-evict",
    unit: `MiB of RSS over idle ${afterEviction} s after the last client left (idle eviction + 30 s)`,
    ours: at("automerge-memory", "syncline.keptAfterIdleEvictMiB"),
    peer: at("automerge-memory", "reference.keptAfterIdleEvictMiB"),
    peerName: reference,
    better: "lower",
    goal: "ours <= 16",
  });
  const fanoutUnit = `${at("share-fanout", "rate")} syncs/s × ${at("share-fanout", "viewers")} viewers`;
  const strongLoop = "raw ws broadcast loop (encode once, batch per turn, pause slow sockets)";
  add("share-fanout", {
    name: "share-fanout-deliveries",
    unit: `deliveries/s, ${fanoutUnit}`,
    ours: at("share-fanout", "syncline.deliveriesPerSecond"),
    peer: at("share-fanout", "rawWs.deliveriesPerSecond"),
    peerName: strongLoop,
    better: "higher",
    goal: "ours/peer >= 0.98",
  });
  add("share-fanout", {
    name: "share-fanout-p99",
    unit: `ms publish → viewer, p99, ${fanoutUnit}`,
    ours: at("share-fanout", "syncline.latencyMs.p99"),
    peer: at("share-fanout", "rawWs.latencyMs.p99"),
    peerName: strongLoop,
    better: "lower",
    goal: "peer/ours >= 0.8",
  });
  const catchup = (path: string) => at("share-catchup", path);
  add("share-catchup", {
    name: "share-catchup-p99",
    unit: `ms reconnect → caught up, p99, ${catchup("viewers")} viewers, ${catchup("items")} items, ${catchup("updates")} missed`,
    ours: catchup("since.caughtUpMs.p99"),
    peer: catchup("full.caughtUpMs.p99"),
    peerName: "the same viewers reconnecting without since (full re-dump)",
    better: "lower",
    // The issue sets no figure beyond being faster than the re-dump.
    goal: "peer/ours >= 1",
  });
  add("stream-throughput", {
    name: "stream-throughput-sha256",
    unit: `MiB/s, ${at("stream-throughput", "payloadMiB")} MiB sender → server → receiver`,
    ours: at("stream-throughput", "syncline.mibPerSecond"),
    peer: at("stream-throughput", "rawRelaySha256.mibPerSecond"),
    peerName: "raw ws relay, SHA-256 at both ends",
    better: "higher",
    goal: "ours/peer >= 0.9",
  });
  // Probes the search had to keep although other work was using the shared machine.
  const busyProbes = sum(
    at("share-fanout-max-rate", "syncline.probesUnderOtherWork"),
    at("share-fanout-max-rate", "rawWs.probesUnderOtherWork"),
  );
  add("share-fanout-max-rate", {
    name: "share-fanout-max-rate",
    unit: `syncs/s with p99 ≤ ${at("share-fanout-max-rate", "p99LimitMs")} ms, ${at("share-fanout-max-rate", "viewers")} viewers`,
    ours: at("share-fanout-max-rate", "syncline.maxRate"),
    peer: at("share-fanout-max-rate", "rawWs.maxRate"),
    peerName: strongLoop,
    better: "higher",
    goal: "ours/peer >= 0.9",
    ...(busyProbes ? { note: `probes kept while other work used the machine: ${busyProbes}` } : {}),
  });
  add("stream-throughput-wss", {
    name: "stream-throughput-wss",
    unit: `MiB/s over wss://, ${at("stream-throughput-wss", "payloadMiB")} MiB sender → server → receiver`,
    ours: at("stream-throughput-wss", "syncline.mibPerSecond"),
    peer: at("stream-throughput-wss", "rawTlsRelaySha256.mibPerSecond"),
    peerName: "raw ws relay over TLS (node:https), SHA-256 at both ends",
    better: "higher",
    goal: "ours/peer >= 0.9",
    note: "the issue asks for this ratio over wss:// but sets no number for it; the goal is the ws:// one",
  });
  add("send-recv-cli", {
    name: "send-recv-cli",
    unit: `MiB/s, send FILE → recv -o FILE on tmpfs, ${at("send-recv-cli", "payloadMiB")} MiB`,
    ours: at("send-recv-cli", "cli.mibPerSecond"),
    peer: at("send-recv-cli", "library.mibPerSecond"),
    peerName: "our library path (ChannelClient)",
    better: "higher",
    goal: "ours/peer >= 0.9",
  });
  for (const quantile of ["p50", "p99"] as const) {
    add("small-item", {
      name: `small-item-${quantile}`,
      unit: `ms, 1 KiB sender → server → receiver, ${quantile} of ${at("small-item", "items")}`,
      ours: at("small-item", `syncline.${quantile}Ms`),
      peer: at("small-item", `rawRelay.${quantile}Ms`),
      peerName: "raw ws relay",
      better: "lower",
      goal: "peer/ours >= 0.67",
    });
  }
  add("send-recv-vs-wormhole", {
    name: "send-recv-vs-wormhole",
    unit: `MiB/s, send FILE → recv -o FILE through a relay, ${at("send-recv-vs-wormhole", "payloadMiB")} MiB`,
    ours: at("send-recv-vs-wormhole", "syncline.mibPerSecond"),
    peer: at("send-recv-vs-wormhole", "wormhole.mibPerSecond"),
    peerName: "magic-wormhole via its mailbox server and transit relay (--no-listen)",
    better: "higher",
    goal: "ours/peer >= 1.3",
    ...(at("send-recv-vs-wormhole", "wormhole.mibPerSecond") === null
      ? { note: "magic-wormhole is not installed here (see docs/benchmarks.md)" }
      : {}),
  });
  // Several nodes and the Postgres store: no figure was set for these; the rows show what a
  // second node (or Postgres instead of LMDB) costs against the same workload without it.
  const nodesUnit = `${at("share-nodes", "rate")} syncs/s × ${at("share-nodes", "viewers")} viewers`;
  const refused = at("share-nodes", "twoNodes.refusedSyncs");
  const shareNodesRow = (name: string, unit: string, path: string, better: "lower" | "higher") =>
    add("share-nodes", {
      name,
      unit: `${unit}, ${nodesUnit}, split over 2 nodes (Postgres + Redis)`,
      ours: at("share-nodes", `twoNodes.${path}`),
      peer: at("share-nodes", `oneNode.${path}`),
      peerName: "the same on one node (same Postgres, no Redis)",
      better,
      goal: "(none set)",
      ...(refused ? { note: `measured syncs refused (503) on two nodes, median: ${refused}` } : {}),
    });
  shareNodesRow("share-nodes-deliveries", "deliveries/s", "deliveriesPerSecond", "higher");
  shareNodesRow("share-nodes-p50", "ms publish → viewer, p50", "latencyMs.p50", "lower");
  shareNodesRow("share-nodes-p99", "ms publish → viewer, p99", "latencyMs.p99", "lower");
  const arrived = at("automerge-nodes", "twoNodes.arrived");
  for (const quantile of ["p50", "p99"] as const) {
    add("automerge-nodes", {
      name: `automerge-nodes-${quantile}`,
      unit: `ms change on client 1 → seen by client 2 on the other node, ${quantile} of ${at("automerge-nodes", "changes")}`,
      ours: at("automerge-nodes", `twoNodes.latencyMs.${quantile}`),
      peer: at("automerge-nodes", `oneNode.latencyMs.${quantile}`),
      peerName: "both clients on one node (same Postgres, no Redis)",
      better: "lower",
      goal: "(none set)",
      ...(arrived !== null && arrived < 1
        ? { note: `only ${Math.round(arrived * 1000) / 10}% of the changes reached the other node` }
        : {}),
    });
  }
  const store = (path: string) => at("store-postgres-vs-lmdb", path);
  const lmdb = "one node on LMDB (durability flush)";
  add("store-postgres-vs-lmdb", {
    name: "store-postgres-automerge-cpu",
    unit: `server CPU s + Postgres's, push + fresh find, ${store("automerge.documents")} docs × ${store("automerge.changesPerDocument")} changes`,
    ours: sum(
      store("automerge.postgres.serverCpuSeconds"),
      store("automerge.postgres.postgresCpuSeconds"),
    ),
    peer: store("automerge.lmdb.serverCpuSeconds"),
    peerName: lmdb,
    better: "lower",
    goal: "(none set)",
  });
  add("store-postgres-vs-lmdb", {
    name: "store-postgres-automerge-ack",
    unit: `s until the client saw every doc acknowledged, ${store("automerge.documents")} docs × ${store("automerge.changesPerDocument")} changes`,
    ours: store("automerge.postgres.ackSeconds"),
    peer: store("automerge.lmdb.ackSeconds"),
    peerName: lmdb,
    better: "lower",
    goal: "(none set)",
  });
  const storeShare = `${store("share.rate")} syncs/s × ${store("share.viewers")} viewers, one node`;
  add("store-postgres-vs-lmdb", {
    name: "store-postgres-share-deliveries",
    unit: `deliveries/s, ${storeShare}`,
    ours: store("share.postgres.deliveriesPerSecond"),
    peer: store("share.lmdb.deliveriesPerSecond"),
    peerName: lmdb,
    better: "higher",
    goal: "(none set)",
  });
  add("store-postgres-vs-lmdb", {
    name: "store-postgres-share-p99",
    unit: `ms publish → viewer, p99, ${storeShare}`,
    ours: store("share.postgres.latencyMs.p99"),
    peer: store("share.lmdb.latencyMs.p99"),
    peerName: lmdb,
    better: "lower",
    goal: "(none set)",
  });
  // syncline clip: a copy on one device pasted on another. Its p99 must be within 500 ms, and
  // within send/recv's p99 plus one poll interval: clip waits for the poll and the debounce, and
  // beyond that should cost no more than a user sending the same bytes by hand.
  const clip = (path: string) => at("clip-latency", path);
  const clipSkipped = results["clip-latency"]?.skipped;
  const clipPolled = (results["clip-latency"] as { clip?: { watch?: string } } | undefined)?.clip
    ?.watch;
  const clipSetting = `clip's defaults (${clipPolled === "poll" ? `--poll-interval ${clip("clip.pollIntervalMs")}` : "the X server's change notices"}, --debounce ${clip("clip.debounceMs")})`;
  const sendRecvPeer =
    "syncline send FILE → recv -o FILE (fresh processes, recv waiting), send's start → recv's exit";
  // Copies held up by xclip serving a large item to one reader at a time (B's clip reading it
  // while B pastes: clip no longer re-reads an item it applied, so none are expected), and copies
  // B never applied: counted or said beside the figure.
  const clipNote = (kind: string, quantile: string) => {
    const collided = clip(`clip.${kind}.collided`);
    const lost = clip(`clip.${kind}.lost`);
    const notes: string[] = [];
    if (collided) {
      const without = clip(`clip.${kind}.withoutCollisions.${quantile}Ms`);
      notes.push(
        `${collided} of ${clip(`clip.${kind}.count`)} copies had the check paste on B fail or give other bytes, or a clipboard tool fail in a clip (e.g. a read colliding with the paste: xclip serves a large item to one reader at a time), counted here; without them ${quantile} ${without} ms`,
      );
    }
    if (lost) {
      notes.push(
        `${lost} more never reached B (its xclip stuck, B's clip stopped applying), not counted`,
      );
    }
    return notes.length > 0 ? { note: notes.join("; ") } : {};
  };
  for (const kind of ["text", "image"] as const) {
    const what = kind === "text" ? `${clip("textBytes")} B text` : `${clip("imageBytes")} B PNG`;
    const unit = (quantile: string) =>
      `ms copy on display A → display B's clipboard holds it, ${quantile} of ${clip(`clip.${kind}.count`)}, ${what}, ${clipSetting}`;
    const clipRow = (name: string, quantile: "p50" | "p99", goal: string) =>
      add("clip-latency", {
        name,
        unit: unit(quantile),
        ours: clip(`clip.${kind}.${quantile}Ms`),
        peer: clip(`sendRecv.${kind}.${quantile}Ms`),
        peerName: sendRecvPeer,
        better: "lower",
        goal,
        ...(typeof clipSkipped === "string" ? { note: clipSkipped } : clipNote(kind, quantile)),
      });
    clipRow(`clip-${kind}-p50`, "p50", "(none set)");
    clipRow(`clip-${kind}-p99`, "p99", "ours <= 500");
    clipRow(
      `clip-${kind}-p99-vs-send-recv`,
      "p99",
      `ours <= peer + ${clip("clip.pollIntervalMs")} (the poll interval)`,
    );
  }
  return rows;
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 100) / 100;
}
