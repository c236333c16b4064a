// Every capability through HAProxy (docs/examples/haproxy.cfg, round-robin, no sticky sessions)
// in front of two nodes of the built CLI on one Postgres and one Redis: real automerge-repo
// clients on different nodes see each other's changes live; share viewers on both nodes see
// every sync of a publisher whose requests go to either, gap-free; `send` through one node
// reaches `recv` waiting on the other; Redis and then Postgres restart during traffic with no
// acknowledged sync lost (counted) and every change of a Repo client arriving; a node killed
// with SIGKILL while its clients reconnect to the other and go on.

import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Repo } from "@automerge/automerge-repo";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createViewerClient } from "../../src/share/client/viewer-client.js";
import type { ViewerSocketConstructor } from "../../src/share/client/viewer-client-api.js";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { createRepoClient, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import { createDeviceEnv, runCliProcess, spawnCli, waitForExit } from "../helpers/cli.js";
import { clusterMissing, startCluster, type TestCluster } from "../helpers/cluster.js";
import { readMetric } from "../helpers/metrics-text.js";
import { call, sessionOf } from "../helpers/share.js";
import { createTempDir } from "../helpers/temp-dir.js";

interface Items {
  items: string[];
}

const suite = "every capability across two nodes behind HAProxy";
const missing = clusterMissing(suite);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(missing !== undefined)(suite, () => {
  let cluster: TestCluster;
  let dir: { path: string; remove: () => Promise<void> };
  let alice: TestKey;
  let bob: TestKey;
  let repos: Repo[] = [];
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    dir = await createTempDir("syncline-cluster-capabilities-");
    alice = generateTestKey(dir.path, "ed25519", { name: "alice" });
    bob = generateTestKey(dir.path, "ed25519", { name: "bob" });
    const authorizedKeys = join(dir.path, "authorized_keys");
    writeFileSync(authorizedKeys, `${alice.publicLine}\n${bob.publicLine}\n`);
    cluster = await startCluster({ nodes: 2, args: ["--authorized-keys", authorizedKeys] });
  }, 120_000);

  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await Promise.all(repos.map((repo) => repo.shutdown().catch(() => {})));
    repos = [];
  });

  afterAll(async () => {
    await cluster?.stop();
    await dir?.remove();
  }, 60_000);

  /** A metric of each node that is up (0 for one that is down), read past HAProxy. */
  const perNode = (name: string, labels: Record<string, string> = {}) =>
    Promise.all(
      cluster.nodes.map((node) =>
        node.child === undefined ? 0 : readMetric(node.url, name, labels).catch(() => 0),
      ),
    );
  const automergeSockets = () =>
    perNode("syncline_websocket_connections", { endpoint: "automerge" });
  const viewerSockets = () => perNode("syncline_share_viewers");
  const grewOn = (before: number[], after: number[]) =>
    after.flatMap((count, i) => (count > (before[i] ?? 0) ? [i] : []));

  /** A Repo client through HAProxy; resolves once its socket is open, with the node it is on. */
  async function repoThroughBalancer(name: string): Promise<{ repo: Repo; node: number }> {
    const before = await automergeSockets();
    const repo = createRepoClient(wsUrl(cluster.url), name);
    repos.push(repo);
    let node = -1;
    await waitUntil(
      async () => {
        const grew = grewOn(before, await automergeSockets());
        node = grew[0] ?? -1;
        return grew.length === 1;
      },
      10_000,
      `${name}'s socket on a node`,
    );
    return { repo, node };
  }

  /** A share viewer client through HAProxy, recording the seqs it gets and any gap. */
  async function watchThroughBalancer(id: string) {
    const before = await viewerSockets();
    const client = createViewerClient({
      server: cluster.url,
      id,
      WebSocket: WebSocket as unknown as ViewerSocketConstructor,
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    const gaps: string[] = [];
    let expected: number | undefined;
    client.on("snapshot", (_state, seq) => {
      expected = seq + 1;
    });
    client.on("update", (frame) => {
      if (expected !== undefined && frame.seq !== expected) gaps.push(`${expected}→${frame.seq}`);
      expected = frame.seq + 1;
    });
    client.connect();
    closers.push(() => client.close());
    let node = -1;
    await waitUntil(
      async () => {
        const grew = grewOn(before, await viewerSockets());
        node = grew[0] ?? -1;
        return grew.length === 1 && client.status === "live";
      },
      10_000,
      "a viewer live on a node",
    );
    const parts = () =>
      [...client.state.values()]
        .map((content) => (content as { id?: string }).id)
        .filter((partId): partId is string => partId?.startsWith("prt_") === true);
    return { client, node, gaps, parts };
  }

  let shares = 0;
  async function newShare() {
    const id = `clus${String(++shares).padStart(4, "0")}`;
    const sessionID = sessionOf(id);
    const created = await call(cluster.url, "POST", "/api/share", { sessionID });
    expect(created.status, created.text).toBe(201);
    const secret = created.body.secret as string;
    const sync = (n: number) =>
      call(cluster.url, "POST", `/api/share/${id}/sync`, {
        secret,
        data: [{ type: "part", data: { id: `prt_${n}`, messageID: "msg_1", sessionID } }],
      }).catch(() => undefined);
    return { id, sync };
  }

  it("real Repo clients on different nodes see each other's changes live", async () => {
    const first = await repoThroughBalancer("alice");
    const second = await repoThroughBalancer("bob");
    expect(new Set([first.node, second.node])).toEqual(new Set([0, 1]));
    const handle = first.repo.create<Items>({ items: ["created"] });
    // Found through the other node as soon as the first node has it.
    let found: Awaited<ReturnType<Repo["find"]>> | undefined;
    await waitUntil(
      async () => {
        found = await second.repo.find<Items>(handle.url).catch(() => undefined);
        return found !== undefined;
      },
      10_000,
      "the document found through the other node",
    );
    const bobs = found as unknown as { doc(): Items; change(f: (doc: Items) => void): void };
    for (let i = 0; i < 5; i++) {
      handle.change((doc) => doc.items.push(`alice ${i}`));
      await waitUntil(() => bobs.doc().items.includes(`alice ${i}`), 10_000, `alice ${i} at bob`);
      bobs.change((doc) => doc.items.push(`bob ${i}`));
      await waitUntil(() => handle.doc().items.includes(`bob ${i}`), 10_000, `bob ${i} at alice`);
    }
  });

  it("share viewers on both nodes see every sync of a publisher through either, gap-free", async () => {
    const { id, sync } = await newShare();
    const one = await watchThroughBalancer(id);
    const two = await watchThroughBalancer(id);
    expect(new Set([one.node, two.node])).toEqual(new Set([0, 1]));
    const before = await perNode("syncline_share_publishes_total");
    for (let n = 1; n <= 30; n++) expect((await sync(n))?.status).toBe(200);
    const after = await perNode("syncline_share_publishes_total");
    // HAProxy balanced the publisher's requests too: both nodes took syncs.
    expect(after.every((count, i) => count > (before[i] ?? 0))).toBe(true);
    for (const viewer of [one, two]) {
      await waitUntil(() => viewer.parts().length === 30, 10_000, "30 parts at a viewer");
      expect(viewer.client.seq).toBe(30);
      expect(viewer.gaps).toEqual([]);
    }
  });

  it("send through one node reaches recv waiting on the other", async () => {
    const file = join(dir.path, "across.bin");
    const out = join(dir.path, "across.out");
    const bytes = randomBytes(300_000);
    writeFileSync(file, bytes);
    const connections = () => perNode("syncline_wire_connections");
    const before = await connections();
    const receiver = spawnCli(
      [
        ...["recv", "--channel", "across", "-o", out, "--server", cluster.wireUrl],
        ...["--identity", bob.privatePath, "--json"],
      ],
      { env: { ...createDeviceEnv(dir.path), SSH_AUTH_SOCK: undefined } },
    );
    closers.push(() => receiver.kill("SIGKILL"));
    let receiverNode = -1;
    await waitUntil(
      async () => {
        const grew = grewOn(before, await connections());
        receiverNode = grew[0] ?? -1;
        return grew.length === 1;
      },
      10_000,
      "the receiver connected to a node",
    );
    const uploads = () =>
      perNode("syncline_wire_transfers_total", { kind: "upload", event: "completed" });
    const uploadsBefore = await uploads();
    const sent = await runCliProcess(
      [
        ...["send", file, "--channel", "across", "--server", cluster.wireUrl],
        ...["--identity", alice.privatePath, "--retries", "0"],
      ],
      { env: { ...createDeviceEnv(dir.path), SSH_AUTH_SOCK: undefined } },
    );
    expect(sent.code, sent.stderr).toBe(0);
    const uploadNodes = grewOn(uploadsBefore, await uploads());
    expect(uploadNodes).toHaveLength(1);
    expect(uploadNodes[0]).not.toBe(receiverNode); // round-robin: the other node took the upload
    const received = await waitForExit(receiver, 20_000);
    expect(received.code, received.stderr).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
  });

  it("Redis and then Postgres restart during traffic: no acknowledged sync lost, every change arrives", async () => {
    const { id, sync } = await newShare();
    const viewer = await watchThroughBalancer(id);
    const writer = await repoThroughBalancer("writer");
    const reader = await repoThroughBalancer("reader");
    const handle = writer.repo.create<Items>({ items: [] });
    let readers: { doc(): Items } | undefined;
    await waitUntil(
      async () => {
        readers = (await reader.repo.find<Items>(handle.url).catch(() => undefined)) as
          | { doc(): Items }
          | undefined;
        return readers !== undefined;
      },
      10_000,
      "the document found by the reader",
    );
    const acknowledged = new Set<number>();
    let running = true;
    let n = 0;
    const traffic = (async () => {
      while (running) {
        n++;
        handle.change((doc) => doc.items.push(`change ${n}`));
        const answer = await sync(n);
        if (answer?.status === 200) acknowledged.add(n);
        else {
          // Refused while the database restarts: a clear, retryable answer, never a hang.
          if (answer !== undefined) expect(answer.status, answer.text).toBe(503);
          await sleep(50);
        }
      }
    })();
    try {
      await sleep(500);
      await cluster.restartRedis();
      await sleep(1000);
      await cluster.restartPostgres();
      await sleep(2000);
    } finally {
      running = false;
      await traffic;
    }
    expect(acknowledged.size).toBeGreaterThan(20);
    const data = await call(cluster.url, "GET", `/api/share/${id}/data`);
    expect(data.status).toBe(200);
    const stored = new Set(
      (data.body as { data: { id?: string } }[]).map((item) => item.data.id).filter(Boolean),
    );
    for (const sent of acknowledged) expect(stored.has(`prt_${sent}`), `prt_${sent}`).toBe(true);
    await waitUntil(() => viewer.parts().length >= stored.size - 1, 20_000, "the viewer caught up");
    await waitUntil(
      () => viewer.parts().length === stored.size,
      20_000,
      "every part at the viewer",
    );
    expect(viewer.gaps).toEqual([]);
    const all = handle.doc().items.length;
    await waitUntil(
      () => (readers as { doc(): Items }).doc().items.length === all,
      30_000,
      `all ${all} changes at the reader`,
    );
  }, 120_000);

  it("a node killed with SIGKILL: its clients reconnect to the other node and go on", async () => {
    const { id, sync } = await newShare();
    const viewer = await watchThroughBalancer(id);
    const follower = await repoThroughBalancer("follower");
    const writer = await repoThroughBalancer("writer");
    const handle = writer.repo.create<Items>({ items: ["before"] });
    let follows: { doc(): Items } | undefined;
    await waitUntil(
      async () => {
        follows = (await follower.repo.find<Items>(handle.url).catch(() => undefined)) as
          | { doc(): Items }
          | undefined;
        return follows !== undefined;
      },
      10_000,
      "the document found by the follower",
    );
    expect((await sync(1))?.status).toBe(200);
    await waitUntil(() => viewer.parts().length === 1, 10_000, "the first part at the viewer");
    // Kill the node the viewer is on: it and whoever else was there reconnect to the other.
    const victim = viewer.node;
    await cluster.killNode(victim);
    for (let n = 2; n <= 6; n++) {
      let answer = await sync(n);
      while (answer?.status !== 200) {
        await sleep(200);
        answer = await sync(n);
      }
    }
    handle.change((doc) => doc.items.push("after"));
    await waitUntil(() => viewer.parts().length === 6, 20_000, "every part after the kill");
    expect(viewer.gaps).toEqual([]);
    await waitUntil(
      () => (follows as { doc(): Items }).doc().items.includes("after"),
      20_000,
      "the change after the kill at the follower",
    );
    await cluster.restartNode(victim);
  }, 90_000);
});
