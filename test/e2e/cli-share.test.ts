// `syncline share create|push|watch|delete`: the built CLI against a `syncline serve` child on
// port 0, each command in a fresh HOME (share records in its config dir), as users run them.

import type { ChildProcess } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CliResult,
  createDeviceEnv,
  runCliProcess,
  spawnCli,
  startServe,
  stopServe,
  waitForExit,
  waitForLine,
} from "../helpers/cli.js";
import { createTempDir } from "../helpers/temp-dir.js";

let dir: { path: string; remove: () => Promise<void> };
let serve: ChildProcess;
let server: string;
let sessions = 0;

beforeAll(async () => {
  dir = await createTempDir("syncline-cli-share-");
  ({ child: serve, base: server } = await startServe(join(dir.path, "data"), {
    env: createDeviceEnv(dir.path),
  }));
});

afterAll(async () => {
  if (serve) await stopServe(serve);
  await dir?.remove();
});

function share(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input?: string,
  timeoutMs = 30_000,
): Promise<CliResult> {
  return runCliProcess(["share", ...args], { env, input, timeoutMs });
}

function newSession(): string {
  sessions += 1;
  return `ses_e2e${String(sessions).padStart(2, "0")}_cliShr${String(sessions).padStart(2, "0")}`;
}

function items(sessionID: string): string {
  const lines = [
    { type: "session", data: { id: sessionID, title: "e2e session" } },
    { type: "message", data: { id: "msg_1", sessionID, role: "user" } },
    {
      type: "part",
      data: { id: "prt_1", messageID: "msg_1", sessionID, type: "text", text: "first" },
    },
    {
      type: "part",
      data: { id: "prt_1", messageID: "msg_1", sessionID, type: "text", text: "second" },
    },
  ];
  return `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
}

function lastJson(stdout: string): Record<string, unknown> {
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "null");
}

/** Parsed JSON lines printed so far by a running child. */
function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line));
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("syncline share", () => {
  it("create → push → watch --json (state, then a live update) → delete", async () => {
    const env = createDeviceEnv(dir.path);
    const sessionID = newSession();
    const id = sessionID.slice(-8);

    const created = await share(["create", sessionID, "--server", server], env);
    expect(created.code, created.stderr).toBe(0);
    const secret = /^secret: (\S+)$/m.exec(created.stdout)?.[1] as string;
    expect(secret.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits
    expect(created.stdout).toContain(`${server}/share/${id}`);
    expect(created.stdout.split(secret)).toHaveLength(2); // printed exactly once
    const recordsPath = join(env.XDG_CONFIG_HOME as string, "syncline", "shares.json");
    expect(statSync(recordsPath).mode & 0o777).toBe(0o600);
    const records = JSON.parse(readFileSync(recordsPath, "utf8"));
    expect(records.shares).toEqual([
      expect.objectContaining({ sessionID, id, secret, server, url: `${server}/share/${id}` }),
    ]);

    const file = join(dir.path, `${id}.jsonl`);
    writeFileSync(file, items(sessionID));
    const pushed = await share(["push", sessionID, "--json"], env, readFileSync(file, "utf8"));
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(lastJson(pushed.stdout)).toMatchObject({
      ok: true,
      id,
      lines: 4,
      items: 4,
      requests: 1,
    });
    expect(pushed.stdout).not.toContain(secret);

    const watcher = spawnCli(["share", "watch", id, "--server", server, "--json"], { env });
    let out = "";
    watcher.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    await until(() => jsonLines(out).some((line) => line.type === "snapshot"), "snapshot");
    const snapshot = jsonLines(out).find((line) => line.type === "snapshot") as {
      state: Record<string, { text?: string; title?: string }>;
      seq: number;
    };
    expect(snapshot.state[`session/part/${sessionID}/msg_1/prt_1`]?.text).toBe("second");
    expect(snapshot.state[`session/info/${sessionID}`]?.title).toBe("e2e session");
    expect(Object.keys(snapshot.state)).toHaveLength(3);

    const live = JSON.stringify({
      type: "part",
      data: { id: "prt_2", messageID: "msg_1", sessionID, type: "text", text: "live!" },
    });
    const pushedLive = await share(["push", sessionID], env, `${live}\n`);
    expect(pushedLive.code, pushedLive.stderr).toBe(0);
    await until(() => jsonLines(out).some((line) => line.type === "update"), "live update");
    expect(jsonLines(out).filter((line) => line.type === "update")).toEqual([
      {
        type: "update",
        key: `session/part/${sessionID}/msg_1/prt_2`,
        content: JSON.parse(live).data,
        seq: snapshot.seq + 1,
      },
    ]);

    const deleted = await share(["delete", sessionID], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(JSON.parse(readFileSync(recordsPath, "utf8")).shares).toEqual([]);
    const watched = await waitForExit(watcher, 10_000);
    expect(watched.code).toBe(0); // the share was deleted: watch ends normally
    expect(jsonLines(out).slice(-2)).toEqual([
      { type: "status", status: "deleted" },
      {
        type: "end",
        ok: true,
        reason: "deleted",
        id: sessionID.slice(-8),
        seq: expect.any(Number),
      },
    ]);
  });

  it("watch ends normally on Ctrl-C: exit 0, and {ok: true} with --json", async () => {
    const env = createDeviceEnv(dir.path);
    const sessionID = newSession();
    expect((await share(["create", sessionID, "--server", server], env)).code).toBe(0);
    expect((await share(["push", sessionID], env, items(sessionID))).code).toBe(0);
    const watcher = spawnCli(["share", "watch", sessionID.slice(-8)], { env }); // server from the record
    await waitForLine(watcher, /part msg_1\/prt_1: text: second/);
    watcher.kill("SIGINT");
    const result = await waitForExit(watcher, 10_000);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/ERR_|error/i);
    // 4 lines, deduped by the queue into one request of 3 writes.
    expect(result.stdout).toMatch(/^share \S+ on http:\/\/127\.0\.0\.1:\d+: 3 item\(s\), seq 3$/m);

    const json = spawnCli(["share", "watch", sessionID.slice(-8), "--json"], { env });
    await waitForLine(json, /"type":"snapshot"/);
    json.kill("SIGTERM");
    const ended = await waitForExit(json, 10_000);
    expect(ended.code).toBe(0);
    expect(jsonLines(ended.stdout).at(-1)).toEqual({
      type: "end",
      ok: true,
      reason: "interrupted",
      id: sessionID.slice(-8),
      seq: 3,
    });
  });

  it("watch | head -1: the reader gone, the next update ends it quietly with 0", async () => {
    const env = createDeviceEnv(dir.path);
    const sessionID = newSession();
    expect((await share(["create", sessionID, "--server", server], env)).code).toBe(0);
    expect((await share(["push", sessionID], env, items(sessionID))).code).toBe(0);
    const watcher = spawnCli(["share", "watch", sessionID.slice(-8)], { env });
    await waitForLine(watcher, /part msg_1\/prt_1: text: second/);
    watcher.stdout?.destroy(); // as `head -1` exits after its line: our next write is EPIPE
    const live = JSON.stringify({
      type: "part",
      data: { id: "prt_2", messageID: "msg_1", sessionID, type: "text", text: "after head" },
    });
    expect((await share(["push", sessionID], env, `${live}\n`)).code).toBe(0);
    const result = await waitForExit(watcher, 5_000);
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|error|syncline:|\n\s+at /i); // no error, no stack
  });

  it("bad JSONL lines are reported by line number, the good ones pushed, exit 2", async () => {
    const env = createDeviceEnv(dir.path);
    const sessionID = newSession();
    expect((await share(["create", sessionID, "--server", server], env)).code).toBe(0);
    const input = [
      items(sessionID).trim(),
      "not json",
      '{"type":"bo gus","data":{}}',
      '{"data":{}}',
      JSON.stringify({ type: "message", data: { id: "msg_x", sessionID: "ses_someoneElse1" } }),
    ].join("\n");
    const result = await share(["push", sessionID], env, input);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/line 5: not JSON/);
    expect(result.stderr).toMatch(/line 6: item type "bo gus"/);
    expect(result.stderr).toMatch(/line 7: "type" must be a string/);
    expect(result.stderr).toMatch(/line 8: item message: sessionID "ses_someoneElse1"/);
    expect(result.stderr).toMatch(/4 bad input line\(s\) skipped/);
    const json = await share(["push", sessionID, "--json"], env, "{}\n");
    expect(json.code).toBe(2);
    expect(lastJson(json.stdout)).toMatchObject({ ok: false, error: { code: "ERR_SHARE_ITEM" } });
    const data = await fetch(`${server}/api/share/${sessionID.slice(-8)}/data`).then((r) =>
      r.json(),
    );
    expect(data).toHaveLength(3);
  });

  it("usage errors, missing records, unknown shares and refused secrets exit with their documented codes", async () => {
    const env = createDeviceEnv(dir.path);
    const sessionID = newSession();
    const badFlag = await share(["create", sessionID, "--bogus"], env);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/unknown option '--bogus'/);
    const badId = await share(["create", "a b", "--server", server, "--json"], env);
    expect(badId.code).toBe(2);
    expect(lastJson(badId.stdout)).toMatchObject({ error: { code: "ERR_USAGE" } });
    const badServer = await share(["create", sessionID, "--server", "ftp://x"], env);
    expect(badServer.code).toBe(2);
    expect(badServer.stderr).toMatch(/--server must be .*, got "ftp:\/\/x"/);
    const noRecord = await share(["push", sessionID, "--server", server], env, "");
    expect(noRecord.code).toBe(2);
    expect(noRecord.stderr).toMatch(new RegExp(`no share of session "${sessionID}"`));
    const unknown = await share(["watch", "zzzzzzzz", "--server", server, "--json"], env);
    expect(unknown.code).toBe(5);
    expect(lastJson(unknown.stdout)).toMatchObject({ error: { code: "ERR_SHARE_NOT_FOUND" } });
    const down = await share(
      ["watch", "zzzzzzzz", "--server", "http://127.0.0.1:1", "--retries", "0"],
      env,
    );
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot connect to ws:\/\/127\.0\.0\.1:1\//);

    // A share whose secret is wrong: push exits 8 and the record is removed.
    expect((await share(["create", sessionID, "--server", server], env)).code).toBe(0);
    const exists = await share(["create", sessionID, "--server", server], env);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/already shared/);
    const recordsPath = join(env.XDG_CONFIG_HOME as string, "syncline", "shares.json");
    const records = JSON.parse(readFileSync(recordsPath, "utf8"));
    records.shares[0].secret = "wrong-secret";
    writeFileSync(recordsPath, JSON.stringify(records), { mode: 0o600 });
    const refused = await share(["push", sessionID], env, items(sessionID));
    expect(refused.code).toBe(8);
    expect(refused.stderr).toMatch(/refused the secret of share .*the local record was removed/);
    expect(JSON.parse(readFileSync(recordsPath, "utf8")).shares).toEqual([]);
  });

  it("push to a share deleted on the server exits 5", async () => {
    const env = createDeviceEnv(dir.path);
    const sessionID = newSession();
    const created = await share(["create", sessionID, "--server", server, "--json"], env);
    const { id, secret } = lastJson(created.stdout) as { id: string; secret: string };
    const response = await fetch(`${server}/api/share/${id}`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ secret }),
    });
    expect(response.status).toBe(200);
    const pushed = await share(["push", sessionID, "--json"], env, items(sessionID));
    expect(pushed.code).toBe(5);
    expect(lastJson(pushed.stdout)).toMatchObject({ error: { code: "ERR_SHARE_NOT_FOUND" } });
  });

  it("push warns how many ignored items a server left unlisted (a stand-in server lists 2 of 150)", async () => {
    // A stand-in for a server that ignored more items than its answer lists (ours lists at most
    // 100): no real client sends items a real server ignores, both check them the same way.
    const mock = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response.setHeader("content-type", "application/json");
        if (request.url === "/api/share") {
          response.statusCode = 201;
          response.end(
            JSON.stringify({ id: "mockshr1", secret: "s".repeat(43), url: "http://x/s/mockshr1" }),
          );
          return;
        }
        response.end(
          JSON.stringify({
            seq: 3,
            ignored: [
              { index: 0, key: "session", reason: "stand-in reason one" },
              { index: 1, reason: "stand-in reason two" },
            ],
            ignoredCount: 150,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => mock.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(mock.address() as AddressInfo).port}`;
      const env = createDeviceEnv(dir.path);
      const sessionID = newSession();
      expect((await share(["create", sessionID, "--server", base], env)).code).toBe(0);
      const pushed = await share(["push", sessionID], env, items(sessionID));
      expect(pushed.code).toBe(0);
      expect(pushed.stderr).toContain("stand-in reason one");
      expect(pushed.stderr).toContain(
        "the server ignored 148 more item(s) it did not list (150 in all)",
      );
    } finally {
      await new Promise<void>((resolve) => mock.close(() => resolve()));
    }
  });
});
