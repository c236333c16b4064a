// The transport without `bufferutil`: ws falls back to masking and unmasking in JavaScript when
// WS_NO_BUFFER_UTIL is set at import time, so a child process running the BUILT code with that
// variable pushes a payload through a real server and both of its ends must agree on the SHA-256.
// A control run without the variable shows the child really tells the two modes apart.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { makeKeys, payloadOf } from "../helpers/transport.js";

const root = resolve(import.meta.dirname, "../..");
const fixture = resolve(root, "test/fixtures/wire-roundtrip.mjs");
/** The source folders the child runs from dist/. */
const builtFolders = ["transport", "transport/auth", "transport/stream", "channels", "protocol"];

/** Fails clearly when dist/ is missing or older than the sources the child runs. */
function assertBuilt(): void {
  for (const folder of builtFolders) {
    const srcDir = resolve(root, "src", folder);
    for (const name of readdirSync(srcDir)) {
      if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
      const built = resolve(root, "dist", folder, name.replace(/\.ts$/, ".js"));
      if (!existsSync(built)) {
        throw new Error(`${built} is missing: run \`npm run build\` before this test`);
      }
      if (statSync(built).mtimeMs < statSync(resolve(srcDir, name)).mtimeMs) {
        throw new Error(`${built} is older than src/${folder}/${name}: run \`npm run build\``);
      }
    }
  }
}

interface RoundTrip {
  readonly bufferutil: boolean;
  readonly acked: string;
  readonly received: string;
  readonly receivedBytes: string;
}

/** Runs the fixture with `env`; resolves with its JSON line, rejects with its stderr. */
function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<RoundTrip> {
  const child = spawn(process.execPath, [fixture, ...args], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`wire-roundtrip exited ${code}: ${stderr}`));
      resolvePromise(JSON.parse(stdout.trim()) as RoundTrip);
    });
  });
}

let dir: { path: string; remove: () => Promise<void> };
let server: TestServer;
let args: string[];
let expected: string;

beforeAll(async () => {
  assertBuilt();
  dir = await createTempDir("syncline-no-bufferutil-");
  const made = makeKeys(dir.path, ["ed25519"]);
  server = await startTestServer({ authorizedKeys: made.authorizedKeys });
  const { bytes } = payloadOf(3 * 1024 * 1024);
  const payloadPath = join(dir.path, "payload.bin");
  writeFileSync(payloadPath, bytes);
  expected = createHash("sha256").update(bytes).digest("hex");
  args = [server.server.url, (made.keys.ed25519 as TestKey).privatePath, payloadPath];
});

afterAll(async () => {
  await server?.stop();
  await dir?.remove();
});

describe("the transport on ws's pure-JavaScript fallback", () => {
  it("carries a 3 MiB payload intact with WS_NO_BUFFER_UTIL=1", async () => {
    const result = await runChild(args, { ...process.env, WS_NO_BUFFER_UTIL: "1" });
    expect(result.bufferutil).toBe(false);
    expect(result).toMatchObject({ acked: expected, received: expected, receivedBytes: expected });
  });

  it("loads bufferutil without the variable (the control)", async () => {
    const { WS_NO_BUFFER_UTIL: _ignored, ...env } = process.env;
    const result = await runChild(args, env);
    expect(result.bufferutil).toBe(true);
    expect(result).toMatchObject({ acked: expected, received: expected, receivedBytes: expected });
  });
});
