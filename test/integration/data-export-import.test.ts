// `syncline data export` / `import` (run in-process through the CLI's own argv parsing): a server
// on the embedded store with a document, a share and two kept channel payloads (one in the
// store, one in the spool folder) is exported, imported into Postgres, served from there with
// everything intact, exported again and imported into a new data directory: both dumps hold the
// same entries. Then the refusals: a non-empty target, and exit codes.

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import * as A from "@automerge/automerge";
import type { Repo } from "@automerge/automerge-repo";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { createRepoClient, storeHasHeads, waitUntil, wsUrl } from "../helpers/automerge-clients.js";
import {
  postgresMissing,
  startTestPostgres,
  type TestPostgres,
} from "../helpers/postgres-server.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, openViewer, sessionItems, sessionOf } from "../helpers/share.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, payloadOf, receiveOne } from "../helpers/transport.js";

const missing = postgresMissing("data export and import");

/** An io whose output is collected; the env carries nothing of the machine's. */
function captureIo(): CliIo & { out(): string; err(): string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on("data", (chunk: Buffer) => chunks.out.push(chunk));
  stderr.on("data", (chunk: Buffer) => chunks.err.push(chunk));
  return {
    stdout,
    stderr,
    env: {},
    onSignal: () => () => {},
    out: () => Buffer.concat(chunks.out).toString(),
    err: () => Buffer.concat(chunks.err).toString(),
  };
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

/** The entry and spool lines of a dump with their data (the header's time and store aside). */
const bodyOf = (path: string) => readFileSync(path, "utf8").split("\n").slice(1).join("\n");

type Items = { items: number[] };
const KiB = 1024;

describe.skipIf(missing !== undefined)("data export and import", () => {
  let postgres: TestPostgres;
  let dir: { path: string; remove: () => Promise<void> };
  let keys: Record<string, TestKey>;
  let authorizedKeys: string;
  const servers: TestServer[] = [];
  const repos: Repo[] = [];
  const clients: WireClient[] = [];

  beforeAll(async () => {
    postgres = await startTestPostgres();
    dir = await createTempDir("syncline-data-");
    ({ keys, authorizedKeys } = makeKeys(dir.path, ["ed25519"]));
  }, 60_000);
  afterAll(async () => {
    for (const client of clients) client.close();
    // (alice's was shut down by the test already: a second shutdown throws at once)
    await Promise.all(repos.map(async (repo) => repo.shutdown()).map((p) => p.catch(() => {})));
    await Promise.all(servers.map((server) => server.stop()));
    await postgres?.remove();
    await dir?.remove();
  });

  const serve = async (overrides: object) => {
    // Payloads over 64 KiB are spooled (the spool is a file per payload beside the store).
    const server = await startTestServer({ authorizedKeys, retainBytes: 64 * KiB, ...overrides });
    servers.push(server);
    return server;
  };
  const channels = async (server: TestServer, origin: string) => {
    const client = await clientFor(server.server.url, keys.ed25519 as TestKey);
    clients.push(client);
    await client.whenOpen();
    return new ChannelClient(client, { origin });
  };

  it("moves a server's data from LMDB to Postgres and back, intact", async () => {
    // The source: a server on the embedded store, with one of everything.
    const lmdbDir = join(dir.path, "source");
    const source = await serve({ dataDir: lmdbDir });
    const repo = createRepoClient(wsUrl(source.server.url), "alice");
    repos.push(repo);
    const handle = repo.create<Items>({ items: [1, 2, 3] });
    await waitUntil(() =>
      storeHasHeads(source.server.store, handle.documentId, A.getHeads(handle.doc())),
    );
    const sessionID = sessionOf("moveme01");
    const created = await call(source.server.url, "POST", "/api/share", { sessionID });
    const secret = created.body.secret as string;
    await call(source.server.url, "POST", "/api/share/moveme01/sync", {
      secret,
      data: sessionItems(sessionID, 3),
    });
    const small = payloadOf(10 * KiB);
    const big = payloadOf(200 * KiB);
    const sender = await channels(source, "laptop");
    expect(await sender.sendWithReceipt("small", small.source)).toMatchObject({ kept: true });
    expect(await sender.sendWithReceipt("big", big.source)).toMatchObject({ kept: true });
    await repo.shutdown();
    await source.halt();

    const dump = join(dir.path, "first.dump");
    const exported = await cli(["data", "export", "--data", lmdbDir, "-o", dump, "--json"]);
    expect(exported.code, exported.err).toBe(0);
    const counts = JSON.parse(exported.out).exported;
    expect(counts.spoolFiles).toBe(1);
    expect(counts.entries).toBeGreaterThan(5);

    // Into Postgres, and served from there.
    const database = await postgres.createDatabase();
    const pgDir = join(dir.path, "pg-node");
    const imported = await cli(["data", "import", "--postgres", database, "--data", pgDir, dump]);
    expect(imported.code, imported.err).toBe(0);
    expect(imported.out).toContain(`${counts.entries} entries and 1 spooled payloads`);
    const moved = await serve({ postgres: database, dataDir: pgDir });
    const bob = createRepoClient(wsUrl(moved.server.url), "bob");
    repos.push(bob);
    expect((await bob.find<Items>(handle.url)).doc().items).toEqual([1, 2, 3]);
    const viewer = await openViewer(moved.server.url, "id=moveme01&v=2");
    const frames = await viewer.waitFrames(6);
    viewer.socket.terminate();
    expect(frames.filter((frame) => frame.key !== undefined)).toHaveLength(5);
    // Another device: a payload never comes back to the device that sent it.
    const receiver = await channels(moved, "desktop");
    expect((await receiveOne(receiver, "small")).bytes.equals(small.bytes)).toBe(true);
    expect((await receiveOne(receiver, "big")).bytes.equals(big.bytes)).toBe(true);
    await moved.halt();

    // And back into a new data directory: the same entries and payloads.
    const second = join(dir.path, "second.dump");
    expect(
      (await cli(["data", "export", "--postgres", database, "--data", pgDir, "-o", second])).code,
    ).toBe(0);
    const back = join(dir.path, "back");
    expect((await cli(["data", "import", "--data", back, second])).code).toBe(0);
    const third = join(dir.path, "third.dump");
    expect((await cli(["data", "export", "--data", back, "-o", third])).code).toBe(0);
    expect(bodyOf(second)).toBe(bodyOf(dump));
    expect(bodyOf(third)).toBe(bodyOf(dump));
  }, 60_000);

  it("refuses to import into a store that holds data, and changes nothing", async () => {
    const target = join(dir.path, "busy");
    const busy = await serve({ dataDir: target });
    await call(busy.server.url, "POST", "/api/share", { sessionID: sessionOf("busy0001") });
    await busy.halt();
    const empty = join(dir.path, "empty.dump");
    const none = join(dir.path, "none");
    mkdirSync(none);
    expect((await cli(["data", "export", "--data", none, "-o", empty])).code).toBe(0);
    const before = join(dir.path, "busy-before.dump");
    expect((await cli(["data", "export", "--data", target, "-o", before])).code).toBe(0);
    const refused = await cli(["data", "import", "--data", target, empty]);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain("already holds entries");
    const after = join(dir.path, "busy-after.dump");
    expect((await cli(["data", "export", "--data", target, "-o", after])).code).toBe(0);
    expect(bodyOf(after)).toBe(bodyOf(before));
  });

  it("writes the dump to stdout without -o, the summary to stderr", async () => {
    const empty = join(dir.path, "empty-dir");
    mkdirSync(empty);
    const result = await cli(["data", "export", "--data", empty]);
    expect(result.code).toBe(0);
    const lines = result.out.trim().split("\n");
    expect(JSON.parse(lines[0] as string)).toMatchObject({ format: "syncline-dump", version: 1 });
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ type: "end", entries: 0 });
    expect(result.err).toContain("exported 0 entries");
  });

  it("refuses to export a data directory that does not exist, creating nothing", async () => {
    const missing = join(dir.path, "typo");
    const result = await cli(["data", "export", "--data", missing]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(missing);
    expect(result.out).toBe("");
    expect(existsSync(missing)).toBe(false);
  });

  it("names a missing dump file with exit 2", async () => {
    const result = await cli([
      "data",
      "import",
      "--data",
      join(dir.path, "x"),
      "/nonexistent.dump",
    ]);
    expect(result.code).toBe(2);
    expect(result.err).toContain("/nonexistent.dump");
  });
});
