// `syncline serve` as users run it: the built binary in a child process.

import { chmodSync, existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateTestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import {
  runCliProcess,
  serveEnv,
  spawnCli,
  waitForExit,
  waitForLine,
  waitForStderr,
} from "../helpers/cli.js";
import { httpGet } from "../helpers/http.js";
import { createTempDir } from "../helpers/temp-dir.js";

let dir: { path: string; remove: () => Promise<void> };
beforeEach(async () => {
  dir = await createTempDir("syncline-e2e-");
});
afterEach(async () => {
  await dir.remove();
});

// Keep a developer's own config file out of these runs.
const env = () => serveEnv(dir.path);

describe("syncline serve", () => {
  it("prints the real URL for --port 0, serves, and exits 0 within 5 s of SIGTERM", async () => {
    const child = spawnCli(["serve", "--port", "0", "--data", `${dir.path}/data`], { env: env() });
    const line = await waitForLine(child, /^listening on /);
    const url = line.replace("listening on ", "");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    const health = await httpGet(`${url}/healthz`);
    expect(JSON.parse(health.body).status).toBe("ok");

    const started = Date.now();
    child.kill("SIGTERM");
    const result = await waitForExit(child, 10_000);
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    // Logs are JSON lines on stderr.
    const logs = result.stderr
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string });
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(["listening", "stopped"]));
  });

  it("exits 0 on SIGINT as well", async () => {
    const child = spawnCli(["serve", "--port", "0", "--data", `${dir.path}/data`], { env: env() });
    await waitForLine(child, /^listening on /);
    child.kill("SIGINT");
    expect((await waitForExit(child, 10_000)).code).toBe(0);
  });

  it("logs a rejection nobody handled and keeps serving (the last resort)", async () => {
    // Planted in the server's process: on SIGUSR2, a rejection no code of syncline ever sees.
    const plant = `process.on(%22SIGUSR2%22,()=>Promise.reject(new%20Error(%22planted%20rejection%22)))`;
    const child = spawnCli(["serve", "--port", "0", "--data", `${dir.path}/data`], {
      env: { ...env(), NODE_OPTIONS: `--import=data:text/javascript,${plant}` },
    });
    const url = (await waitForLine(child, /^listening on /)).replace("listening on ", "");
    child.kill("SIGUSR2");
    await waitForStderr(child, /unhandled rejection/);
    expect(JSON.parse((await httpGet(`${url}/healthz`)).body).status).toBe("ok");
    child.kill("SIGTERM");
    const result = await waitForExit(child, 10_000);
    expect(result.code).toBe(0);
    const logged = result.stderr
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { level: string; msg: string; err?: { message: string } })
      .find((line) => line.msg.startsWith("unhandled rejection"));
    expect(logged).toMatchObject({ level: "error", err: { message: "planted rejection" } });
  });

  it("--port abc exits 2 with a message naming --port", async () => {
    const result = await runCliProcess(["serve", "--port", "abc"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--port");
    expect(result.stderr).toContain('"abc"');
  });

  it("takes the share settings as flags: --share-max-body refuses a larger body with 413", async () => {
    const child = spawnCli(
      ["serve", "--port", "0", "--data", `${dir.path}/data`, "--share-max-body", "2048"],
      { env: env() },
    );
    const url = (await waitForLine(child, /^listening on /)).replace("listening on ", "");
    const created = await fetch(`${url}/api/share`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionID: "ses_flags" }),
    });
    expect(created.status).toBe(201);
    const { id, secret } = (await created.json()) as { id: string; secret: string };
    const sync = (text: string) =>
      fetch(`${url}/api/share/${id}/sync`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          secret,
          data: [{ type: "session", data: { id: "ses_flags", title: text } }],
        }),
      });
    expect((await sync("small")).status).toBe(200);
    const large = await sync("x".repeat(4096));
    expect(large.status).toBe(413);
    child.kill("SIGTERM");
    expect((await waitForExit(child, 10_000)).code).toBe(0);
  });

  it("a bad share flag exits 2 naming the flag and the value", async () => {
    const result = await runCliProcess(["serve", "--share-viewer-flush", "5000"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--share-viewer-flush");
    expect(result.stderr).toContain("5000");
  });

  it("an unknown flag exits 2 naming the flag", async () => {
    const result = await runCliProcess(["serve", "--bogus"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--bogus");
  });

  it("an unknown command exits 2", async () => {
    const result = await runCliProcess(["frobnicate"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("frobnicate");
  });

  it("a bad environment value exits 2 naming the variable", async () => {
    const result = await runCliProcess(["serve"], { env: { ...env(), PORT: "99999" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("PORT");
  });

  it("--json turns an error into {ok:false, error:{code, message}} on stdout", async () => {
    const result = await runCliProcess(["serve", "--port", "x", "--json"], { env: env() });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: "ERR_INVALID_CONFIG" },
    });
  });

  it("--json prints the listening address as JSON", async () => {
    const child = spawnCli(["serve", "--port", "0", "--data", `${dir.path}/d`, "--json"], {
      env: env(),
    });
    const line = await waitForLine(child, /^\{/);
    expect(JSON.parse(line)).toMatchObject({ ok: true, url: expect.stringMatching(/^http:/) });
    child.kill("SIGTERM");
    expect((await waitForExit(child, 10_000)).code).toBe(0);
  });

  it("takes settings from a --config TOML file, and flags override it", async () => {
    const config = `${dir.path}/syncline.toml`;
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      config,
      `[server]\nport = 0\ndata = "${dir.path}/from-file"\nlog_level = "warn"\n`,
    );
    const child = spawnCli(["serve", "--config", config], { env: env() });
    const url = (await waitForLine(child, /^listening on /)).replace("listening on ", "");
    const health = JSON.parse((await httpGet(`${url}/healthz`)).body);
    expect(health.status).toBe("ok");
    expect(existsSync(`${dir.path}/from-file/syncline.mdb`)).toBe(true);
    child.kill("SIGTERM");
    const result = await waitForExit(child, 10_000);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(""); // log_level = "warn" hides info lines
  });

  it("a broken config file exits 2 naming the file", async () => {
    const config = `${dir.path}/broken.toml`;
    const { writeFileSync } = await import("node:fs");
    writeFileSync(config, "[server\n");
    const result = await runCliProcess(["serve", "--config", config], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(config);
  });

  it("a port in use or a locked data directory exits 9", async () => {
    const data = `${dir.path}/data`;
    const child = spawnCli(["serve", "--port", "0", "--data", data], { env: env() });
    const url = (await waitForLine(child, /^listening on /)).replace("listening on ", "");
    const port = new URL(url).port;
    const busy = await runCliProcess(["serve", "--port", port, "--data", `${dir.path}/other`], {
      env: env(),
    });
    expect(busy.code).toBe(9);
    expect(busy.stderr).toContain(`127.0.0.1:${port}`);
    const locked = await runCliProcess(["serve", "--port", "0", "--data", data], { env: env() });
    expect(locked.code).toBe(9);
    expect(locked.stderr).toContain(data);
    child.kill("SIGTERM");
    expect((await waitForExit(child, 10_000)).code).toBe(0);
  });

  it("a stale lock in a data directory the user cannot write exits 9 (ERR_STORE_OPEN) saying permission denied", async () => {
    // Run as nobody when we are root (root writes anywhere); the folders let nobody read them.
    chmodSync(dir.path, 0o755);
    const data = join(dir.path, "data");
    mkdirSync(data);
    writeFileSync(join(data, "syncline.lock"), "2147483000\n"); // no such process: stale
    chmodSync(data, 0o555);
    const result = await runCliProcess(["serve", "--port", "0", "--data", data, "--json"], {
      env: env(),
      unprivileged: true,
    });
    expect(result.code).toBe(9);
    const { error } = JSON.parse(result.stdout.trim());
    expect(error.code).toBe("ERR_STORE_OPEN");
    expect(error.message).toContain(`permission denied in folder ${data}`);
    expect(error.message).not.toMatch(/keeps being locked|in use by/);
  });

  it("warns when --authorized-keys lists no keys: at start, and on reload when the file becomes empty", async () => {
    const noKeys = "authorized_keys FILE lists no keys: every /wire connection will be refused";
    const warned = (stderr: string, file: string) =>
      stderr
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { level: string; msg: string })
        .filter((log) => log.level === "warn" && log.msg === noKeys.replace("FILE", file));

    const empty = join(dir.path, "empty_keys");
    writeFileSync(empty, "# devices go here\nnot-a-key-line\n");
    const child = spawnCli(
      ["serve", "--port", "0", "--data", join(dir.path, "d1"), "--authorized-keys", empty],
      { env: env() },
    );
    await waitForLine(child, /^listening on /);
    child.kill("SIGTERM");
    const stopped = await waitForExit(child, 10_000);
    expect(stopped.code).toBe(0);
    expect(warned(stopped.stderr, empty)).toHaveLength(1);

    const key = generateTestKey(dir.path, "ed25519", { name: "device" });
    const keysFile = join(dir.path, "some_keys");
    writeFileSync(keysFile, `${key.publicLine}\n`);
    const serve = spawnCli(
      ["serve", "--port", "0", "--data", join(dir.path, "d2"), "--authorized-keys", keysFile],
      { env: env() },
    );
    const url = (await waitForLine(serve, /^listening on /)).replace("listening on http", "ws");
    writeFileSync(keysFile, "# every device removed\n");
    utimesSync(keysFile, new Date(), new Date(Date.now() + 5_000)); // a surely different mtime
    const home = join(dir.path, "device-home");
    const refused = await runCliProcess(
      ["send", "-", "--channel", "c", "--identity", key.privatePath, "--server", url],
      {
        env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), SSH_AUTH_SOCK: "" },
        input: "x",
      },
    );
    expect(refused.code).toBe(8);
    serve.kill("SIGTERM");
    const reloaded = await waitForExit(serve, 10_000);
    expect(warned(reloaded.stderr, keysFile)).toHaveLength(1);
  });

  it("--help works for the program and for serve", async () => {
    const top = await runCliProcess(["--help"], { env: env() });
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("serve");
    const serve = await runCliProcess(["serve", "--help"], { env: env() });
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain("--port");
  });
});
