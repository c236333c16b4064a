// `syncline sync` as users run it: the built CLI against the reference automerge-repo sync server
// (Repo + WebSocketServerAdapter + NodeFSStorageAdapter, in-process), with real Repo clients on
// the other side. Every CLI child gets its own HOME and XDG_CONFIG_HOME.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import * as Automerge from "@automerge/automerge";
import { type AutomergeUrl, type DocHandle, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, createDeviceEnv, runCliProcess } from "../helpers/cli.js";
import {
  type ReferenceAutomergeServer,
  startReferenceAutomergeServer,
} from "../helpers/reference-automerge-server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { waitUntil } from "../helpers/transport.js";

type Items = {
  items: string[];
  title?: string;
};

let dir: { path: string; remove: () => Promise<void> };
let reference: ReferenceAutomergeServer;
let files = 0;
const clients: Repo[] = [];

beforeAll(async () => {
  dir = await createTempDir("syncline-cli-sync-");
  reference = await startReferenceAutomergeServer();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((repo) => repo.shutdown().catch(() => {})));
});

afterAll(async () => {
  await reference?.stop();
  await dir?.remove();
});

function device(config?: string): NodeJS.ProcessEnv {
  return createDeviceEnv(dir.path, config);
}

function sync(args: readonly string[], env: NodeJS.ProcessEnv = device()): Promise<CliResult> {
  return runCliProcess(["sync", ...args], { env, timeoutMs: 30_000 });
}

/** A path for a new local file (not created). */
function localPath(name = "doc"): string {
  return join(dir.path, `${name}-${++files}.automerge`);
}

function writeDoc(path: string, doc: Automerge.Doc<Items>): void {
  writeFileSync(path, Automerge.save(doc));
}

function readDoc(path: string): Automerge.Doc<Items> {
  return Automerge.load<Items>(new Uint8Array(readFileSync(path)));
}

function json(result: CliResult): Record<string, unknown> {
  return JSON.parse(result.stdout.trim()) as Record<string, unknown>;
}

/** A real automerge-repo client connected to `url`. */
function client(url: string): Repo {
  const repo = new Repo({ network: [new WebSocketClientAdapter(url)] });
  clients.push(repo);
  return repo;
}

/** Waits until the reference server holds `handle`'s current heads. */
async function onServer(handle: DocHandle<unknown>): Promise<void> {
  const id = handle.documentId;
  await waitUntil(() => {
    const served = reference.repo.handles[id];
    if (!served?.isReady()) return false;
    return served.heads().join() === handle.heads().join();
  }, `the reference server to hold ${id}`);
}

describe("syncline sync against the reference server", () => {
  it("--new pushes a file's content; a real Repo client then finds it", async () => {
    const file = localPath("new");
    writeDoc(file, Automerge.from<Items>({ items: ["from-cli"], title: "hello" }));
    const result = await sync(["--new", "--file", file, "--server", reference.url]);
    expect(result.code, result.stderr).toBe(0);
    const url = result.stdout.trim();
    expect(url).toMatch(/^automerge:[1-9A-HJ-NP-Za-km-z]{20,30}$/);

    const handle = await client(reference.url).find<Items>(url as AutomergeUrl);
    expect(handle.doc()).toEqual({ items: ["from-cli"], title: "hello" });
  });

  it("--new without a file creates an empty document that Repo clients can find", async () => {
    const file = localPath("empty");
    const result = await sync(["--new", "--file", file, "--server", reference.url, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const summary = json(result);
    expect(existsSync(file)).toBe(true);
    expect(Automerge.getHeads(readDoc(file))).toHaveLength(1);
    const handle = await client(reference.url).find(summary.url as AutomergeUrl);
    expect(handle.doc()).toEqual({});
  });

  it("pulls a document a Repo client made into a new local file, with the --json summary", async () => {
    const handle = client(reference.url).create<Items>({ items: ["a", "b"] });
    await onServer(handle);
    const file = localPath("pull");
    const result = await sync([handle.url, "--file", file, "--server", reference.url, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toEqual({
      ok: true,
      server: reference.url,
      url: handle.url,
      documentId: handle.documentId,
      peerId: expect.stringMatching(/^syncline-cli-/),
      serverPeerId: "storage-server-test",
      protocolVersion: "1",
      heads: [...handle.heads()],
      changesSent: 0,
      changesReceived: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expect(json(result).changesReceived).toBeGreaterThanOrEqual(1);
    expect(readDoc(file)).toEqual({ items: ["a", "b"] });
  });

  it("merges both ways: local edits reach Repo clients, their edits reach the file", async () => {
    const handle = client(reference.url).create<Items>({ items: ["base"] });
    await onServer(handle);
    const file = localPath("merge");
    expect((await sync([handle.documentId, "--file", file, "--server", reference.url])).code).toBe(
      0,
    );

    handle.change((doc) => {
      doc.items.push("remote");
    });
    await onServer(handle);
    writeDoc(
      file,
      Automerge.change(readDoc(file), (doc) => {
        doc.items.push("local");
      }),
    );
    const result = await sync([handle.url, "--file", file, "--server", reference.url, "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const merged = readDoc(file).items;
    expect([...merged].sort()).toEqual(["base", "local", "remote"]);
    expect(json(result).changesSent).toBe(1);
    expect(json(result).changesReceived).toBe(1);
    await waitUntil(
      () => handle.doc().items.includes("local"),
      "the Repo client to receive the CLI's change",
    );
    expect(json(result).heads).toEqual([...handle.heads()]);
  });

  it("a file holding another document exits 2 (ERR_SYNC_UNRELATED), sends nothing; --allow-unrelated merges", async () => {
    const handle = client(reference.url).create<Items>({ items: ["theirs"] });
    await onServer(handle);
    const serverHeads = [...handle.heads()];
    const file = localPath("unrelated");
    writeDoc(file, Automerge.from<Items>({ items: ["mine"] }));
    const before = readFileSync(file);

    const refused = await sync([handle.url, "--file", file, "--server", reference.url, "--json"]);
    expect(refused.code).toBe(2);
    expect(json(refused)).toMatchObject({
      ok: false,
      error: { code: "ERR_SYNC_UNRELATED", message: expect.stringContaining("--allow-unrelated") },
    });
    expect(readFileSync(file).equals(before)).toBe(true);
    // The server's document did not take our changes.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reference.repo.handles[handle.documentId]?.heads()).toEqual(serverHeads);

    const merged = await sync([
      handle.url,
      "--file",
      file,
      "--server",
      reference.url,
      "--allow-unrelated",
    ]);
    expect(merged.code, merged.stderr).toBe(0);
    expect(Automerge.getHeads(readDoc(file))).toHaveLength(2);
    await waitUntil(() => handle.heads().length === 2, "the Repo client to get the merged heads");
  });

  it("leaves an unchanged file untouched", async () => {
    const handle = client(reference.url).create<Items>({ items: ["same"] });
    await onServer(handle);
    const file = localPath("same");
    expect((await sync([handle.url, "--file", file, "--server", reference.url])).code).toBe(0);
    const before = readFileSync(file);
    const again = await sync([handle.url, "--file", file, "--server", reference.url, "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(json(again)).toMatchObject({ changesSent: 0, changesReceived: 0 });
    expect(readFileSync(file).equals(before)).toBe(true);
    // No temp files left behind by the atomic save.
    expect(readdirSync(dir.path).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("--dry-run reports whether the server has the document and writes nothing", async () => {
    const handle = client(reference.url).create<Items>({ items: ["dry"] });
    await onServer(handle);
    const file = localPath("dry");
    const known = await sync([
      handle.url,
      ...["--file", file, "--server", reference.url, "--dry-run", "--json"],
    ]);
    expect(known.code, known.stderr).toBe(0);
    expect(json(known)).toMatchObject({
      ok: true,
      dryRun: true,
      existsOnServer: true,
      serverPeerId: "storage-server-test",
      protocolVersion: "1",
      heads: [...handle.heads()],
      changesSent: 0,
    });
    expect(existsSync(file)).toBe(false);

    // Unknown there and no local copy: the real run would exit 5, so the dry run does too.
    const unknownId = newDocumentId();
    const unknown = await sync([
      unknownId,
      ...["--file", file, "--server", reference.url, "--dry-run"],
    ]);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain(unknownId);
    expect(existsSync(file)).toBe(false);

    // With a local copy the real run would push it: the dry run succeeds and says the server lacks it.
    writeDoc(file, Automerge.from<Items>({ items: ["mine"] }));
    const pushable = await sync([
      unknownId,
      ...["--file", file, "--server", reference.url, "--dry-run"],
    ]);
    expect(pushable.code, pushable.stderr).toBe(0);
    expect(pushable.stdout).toMatch(/does not have automerge:/);
  });

  it("an unknown document with no local copy exits 5 and creates no file", async () => {
    const file = localPath("unknown");
    const id = newDocumentId();
    const result = await sync([id, "--file", file, "--server", reference.url, "--json"]);
    expect(result.code).toBe(5);
    expect(json(result)).toEqual({
      ok: false,
      error: { code: "ERR_DOCUMENT_UNAVAILABLE", message: expect.stringContaining(id) },
    });
    expect(existsSync(file)).toBe(false);
  });

  it("an unknown document with a local copy is pushed to the server", async () => {
    const file = localPath("push");
    writeDoc(file, Automerge.from<Items>({ items: ["pushed"] }));
    const id = newDocumentId();
    const result = await sync([id, "--file", file, "--server", reference.url]);
    expect(result.code, result.stderr).toBe(0);
    const handle = await client(reference.url).find<Items>(`automerge:${id}` as AutomergeUrl);
    expect(handle.doc().items).toEqual(["pushed"]);
  });

  it("uses [sync] server from the config file", async () => {
    const handle = client(reference.url).create<Items>({ items: ["configured"] });
    await onServer(handle);
    const file = localPath("config");
    const result = await sync(
      [handle.url, "--file", file, "--json"],
      device(`[sync]\nserver = "${reference.url}"\ntimeout = 20\nretries = 0\n`),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).server).toBe(reference.url);
    expect(readDoc(file).items).toEqual(["configured"]);
  });
});

describe("syncline sync input and config errors", () => {
  it("an invalid document id exits 2 naming it", async () => {
    const result = await sync(["bookmarks", "--file", localPath(), "--server", reference.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"bookmarks"');
    const url = await sync(["automerge:nope", "--file", localPath(), "--json"]);
    expect(url.code).toBe(2);
    expect(json(url).error).toMatchObject({ code: "ERR_INVALID_AUTOMERGE_URL" });
  });

  it("[sync] enabled = false exits 6", async () => {
    const result = await sync(
      [newDocumentId(), "--file", localPath(), "--server", reference.url, "--json"],
      device("[sync]\nenabled = false\n"),
    );
    expect(result.code).toBe(6);
    expect(json(result).error).toMatchObject({ code: "ERR_SYNC_DISABLED" });
  });

  it("bad --timeout and --retries exit 2 naming the flag", async () => {
    const id = newDocumentId();
    const timeout = await sync([id, "--file", localPath(), "--timeout", "soon"]);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain("--timeout");
    const retries = await sync([id, "--file", localPath(), "--retries", "-1"]);
    expect(retries.code).toBe(2);
    expect(retries.stderr).toContain("--retries");
  });

  it("a local file that is not an Automerge document exits 2 naming the path", async () => {
    const file = localPath("garbage");
    writeFileSync(file, "not automerge at all");
    const result = await sync([newDocumentId(), "--file", file, "--server", reference.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(file);
    expect(readFileSync(file, "utf8")).toBe("not automerge at all");
  });

  it("nothing listening, --retries 1: exit 3 quickly, saying connection refused and the url", async () => {
    const url = `ws://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const result = await sync([
      newDocumentId(),
      ...["--file", localPath(), "--server", url, "--retries", "1"],
    ]);
    expect(result.code).toBe(3);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(result.stderr).toContain("connection refused");
    expect(result.stderr).toContain(url);
    expect(result.stderr).toContain("retrying");
  });
});

function newDocumentId(): string {
  // The same format Repo.create() uses, made by a real Repo so the test does not trust our ids.
  const repo = new Repo({ network: [] });
  const id = repo.create().documentId;
  void repo.shutdown();
  return id;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
