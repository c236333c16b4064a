// `syncline sync` against our own server: the built CLI and real automerge-repo clients on
// `syncline serve` children (one open, one requiring an access token), the core cases of
// cli-sync.test.ts (which runs them against the reference server).

import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as Automerge from "@automerge/automerge";
import { type AutomergeUrl, Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CliResult,
  createDeviceEnv,
  runCliProcess,
  startServe,
  stopServe,
} from "../helpers/cli.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { waitUntil } from "../helpers/transport.js";

type Items = { items: string[] };

let dir: { path: string; remove: () => Promise<void> };
let open: { child: ChildProcess; url: string };
let guarded: { child: ChildProcess; url: string };
let files = 0;
const clients: Repo[] = [];

async function serveWs(name: string, args: readonly string[]) {
  const { child, base } = await startServe(join(dir.path, name), { env: device(), args });
  return { child, url: base.replace(/^http/, "ws") };
}

beforeAll(async () => {
  dir = await createTempDir("syncline-cli-sync-serve-");
  [open, guarded] = await Promise.all([
    serveWs("open", []),
    serveWs("guarded", ["--automerge-token", "t0ken"]),
  ]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((repo) => repo.shutdown().catch(() => {})));
});

afterAll(async () => {
  for (const server of [open, guarded]) {
    if (!server) continue;
    await stopServe(server.child);
  }
  await dir?.remove();
});

function device(config?: string): NodeJS.ProcessEnv {
  return createDeviceEnv(dir.path, config);
}

function sync(args: readonly string[], env: NodeJS.ProcessEnv = device()): Promise<CliResult> {
  return runCliProcess(["sync", ...args, "--json"], { env, timeoutMs: 30_000 });
}

function localPath(): string {
  return join(dir.path, `doc-${++files}.automerge`);
}

function readDoc(path: string): Items {
  return Automerge.load<Items>(new Uint8Array(readFileSync(path)));
}

function client(): Repo {
  const repo = new Repo({ network: [new WebSocketClientAdapter(open.url, 200)] });
  clients.push(repo);
  return repo;
}

/** Waits until a fresh Repo client finds `url` on the server and `check` holds for it. */
async function serverHas(url: AutomergeUrl, check: (doc: Items) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const repo = new Repo({ network: [new WebSocketClientAdapter(open.url, 200)] });
    try {
      const handle = await repo.find<Items>(url);
      if (check(handle.doc())) return;
    } catch {}
    await repo.shutdown().catch(() => {});
    if (Date.now() > deadline) throw new Error(`the server never had ${url} as expected`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("syncline sync against syncline serve", () => {
  it("--new pushes a file; a real Repo client finds the content", async () => {
    const file = localPath();
    writeFileSync(file, Automerge.save(Automerge.from<Items>({ items: ["cli"] })));
    const result = await sync(["--new", "--file", file, "--server", open.url]);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { url: AutomergeUrl; changesSent: number };
    expect(summary.changesSent).toBe(1);
    const handle = await client().find<Items>(summary.url);
    expect(handle.doc()).toEqual({ items: ["cli"] });
  });

  it("counts Automerge changes, not sync messages: 45 changes sent, then 45 received", async () => {
    let doc = Automerge.from<Items>({ items: [] });
    for (let i = 1; i < 45; i++) {
      doc = Automerge.change(doc, (draft) => {
        draft.items.push(`item ${i}`);
      });
    }
    expect(Automerge.getAllChanges(doc)).toHaveLength(45);
    const file = localPath();
    writeFileSync(file, Automerge.save(doc));
    const pushed = await sync(["--new", "--file", file, "--server", open.url]);
    expect(pushed.code, pushed.stderr).toBe(0);
    const summary = JSON.parse(pushed.stdout) as { url: string };
    expect(summary).toMatchObject({ changesSent: 45, changesReceived: 0 });

    const copy = localPath();
    const pulled = await sync([summary.url, "--file", copy, "--server", open.url]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(JSON.parse(pulled.stdout)).toMatchObject({ changesSent: 0, changesReceived: 45 });
    expect(readDoc(copy).items).toHaveLength(44);

    // One more local change: exactly one goes up.
    const edited = Automerge.change(Automerge.load<Items>(readFileSync(copy)), (draft) => {
      draft.items.push("one more");
    });
    writeFileSync(copy, Automerge.save(edited));
    const again = await sync([summary.url, "--file", copy, "--server", open.url]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ changesSent: 1, changesReceived: 0 });
  });

  it("pulls a Repo client's document, then merges edits both ways", async () => {
    const handle = client().create<Items>({ items: ["base"] });
    await serverHas(handle.url, (doc) => doc.items?.includes("base"));
    const file = localPath();
    const pulled = await sync([handle.url, "--file", file, "--server", open.url]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readDoc(file)).toEqual({ items: ["base"] });

    handle.change((doc) => {
      doc.items.push("remote");
    });
    await serverHas(handle.url, (doc) => doc.items?.includes("remote"));
    const local = Automerge.change(Automerge.load<Items>(readFileSync(file)), (doc) => {
      doc.items.push("local");
    });
    writeFileSync(file, Automerge.save(local));
    const merged = await sync([handle.url, "--file", file, "--server", open.url]);
    expect(merged.code, merged.stderr).toBe(0);
    expect([...readDoc(file).items].sort()).toEqual(["base", "local", "remote"]);
    await waitUntil(() => handle.doc().items.includes("local"), "the client to get the CLI's edit");
  });

  it("unknown document without a local copy: exit 5, no file; --dry-run predicts it (exit 5)", async () => {
    const id = new Repo({ network: [] }).create().documentId;
    const file = localPath();
    const result = await sync([id, "--file", file, "--server", open.url]);
    expect(result.code).toBe(5);
    expect(existsSync(file)).toBe(false);
    const dry = await sync([id, "--file", file, "--server", open.url, "--dry-run"]);
    expect(dry.code).toBe(5);
    expect(JSON.parse(dry.stdout)).toEqual({
      ok: false,
      error: { code: "ERR_DOCUMENT_UNAVAILABLE", message: expect.stringContaining(id) },
    });
    expect(existsSync(file)).toBe(false);
  });

  it("unknown document with a local copy: --dry-run exits 0, existsOnServer false (the real run pushes)", async () => {
    const id = new Repo({ network: [] }).create().documentId;
    const file = localPath();
    writeFileSync(file, Automerge.save(Automerge.from<Items>({ items: ["local"] })));
    const before = readFileSync(file);
    const dry = await sync([id, "--file", file, "--server", open.url, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ existsOnServer: false, protocolVersion: "1" });
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it("--dry-run on a document the server has: exists, nothing written", async () => {
    const handle = client().create<Items>({ items: ["dry"] });
    await serverHas(handle.url, (doc) => doc.items?.includes("dry"));
    const file = localPath();
    const dry = await sync([handle.url, "--file", file, "--server", open.url, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      existsOnServer: true,
      heads: [...handle.heads()],
      changesSent: 0,
    });
    expect(existsSync(file)).toBe(false);
  });

  it("a server requiring a token: [sync] token is sent; without it exit 8", async () => {
    const file = localPath();
    const refused = await sync(["--new", "--file", file, "--server", guarded.url]);
    expect(refused.code).toBe(8);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: "ERR_UNAUTHORIZED" });
    const accepted = await sync(
      ["--new", "--file", file, "--server", guarded.url],
      device('[sync]\ntoken = "t0ken"\n'),
    );
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    expect(existsSync(file)).toBe(true);
  });
});
