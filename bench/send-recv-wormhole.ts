// send-recv-vs-wormhole: what users would pick instead to move a file between their machines
// through a relay. `syncline send FILE` → `syncline recv -o FILE` over ws:// (as send-recv-cli
// runs it) against magic-wormhole through its own mailbox server and transit relay, both on
// loopback, both clients with `--no-listen` so the bytes go through the relay; files on tmpfs;
// each command a fresh process; same run, alternating. Needs the Debian packages
// magic-wormhole, python3-magic-wormhole-mailbox-server and magic-wormhole-transit-relay
// (`wormhole` and `twist3` on PATH); without them the peer is reported as not measured.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { median } from "./lib/stats.js";
import { cliSpeed, prepareCliBench } from "./send-recv-cli.js";

/** Runs the benchmark with a payload of `bytes`, `repetitions` per contender. */
export async function sendRecvWormhole(bytes: number, repetitions: number) {
  const missing = ["wormhole", "twist3"].filter((tool) => !onPath(tool));
  const bench = prepareCliBench(bytes);
  const relays: ChildProcess[] = [];
  try {
    const ours: number[] = [];
    const wormhole: number[] = [];
    let endpoints: { mailbox: string; transit: string } | undefined;
    if (missing.length === 0) {
      const [mailboxPort, transitPort] = [await freePort(), await freePort()];
      const ports = (port: number) => `--port=tcp:${port}:interface=127.0.0.1`;
      relays.push(twist(["wormhole-mailbox", ports(mailboxPort)], bench.dir));
      relays.push(twist(["transitrelay", ports(transitPort)], bench.dir));
      endpoints = {
        mailbox: `ws://127.0.0.1:${mailboxPort}/v1`,
        transit: `tcp:127.0.0.1:${transitPort}`,
      };
      await waitForPort(mailboxPort);
      await waitForPort(transitPort);
    }
    for (let i = 0; i < repetitions; i++) {
      ours.push(await cliSpeed(bench, i));
      if (endpoints)
        wormhole.push(await wormholeSpeed(bench.input, bench.dir, bytes, endpoints, i));
    }
    const oursMedian = median(ours);
    const peer = wormhole.length > 0 ? median(wormhole) : null;
    return {
      name: "send-recv-vs-wormhole",
      payloadMiB: bytes / 1024 / 1024,
      repetitions,
      syncline: { mibPerSecond: Math.round(oursMedian), runs: ours.map(Math.round) },
      wormhole:
        peer === null
          ? { mibPerSecond: null, note: `not installed: ${missing.join(", ")} missing from PATH` }
          : { mibPerSecond: Math.round(peer), runs: wormhole.map(Math.round), version: version() },
      ratio: peer === null ? null : Math.round((oursMedian / peer) * 100) / 100,
      target: "syncline >= 1.3x magic-wormhole through its relay",
    };
  } finally {
    for (const relay of relays) relay.kill("SIGTERM");
    rmSync(bench.dir, { recursive: true, force: true });
  }
}

/** One `wormhole send` → `wormhole receive` of `input`; MiB/s from the sender's start. */
async function wormholeSpeed(
  input: string,
  dir: string,
  bytes: number,
  endpoints: { mailbox: string; transit: string },
  i: number,
): Promise<number> {
  const code = `${7 + i}-syncline-bench`;
  const common = ["--relay-url", endpoints.mailbox, "--transit-helper", endpoints.transit];
  const output = join(dir, `wormhole-${i}.bin`);
  const receiving = exited(
    spawn("wormhole", [...common, "receive", "--no-listen", "--accept-file", "-o", output, code], {
      stdio: "ignore",
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = Date.now();
  const sending = exited(
    spawn("wormhole", [...common, "send", "--no-listen", "--code", code, input], {
      stdio: "ignore",
    }),
  );
  await Promise.all([sending, receiving]);
  const seconds = (Date.now() - started) / 1000;
  if (statSync(output).size !== bytes) throw new Error(`wormhole: ${output} is not ${bytes} bytes`);
  rmSync(output);
  return bytes / 1024 / 1024 / seconds;
}

/** A twisted server; `cwd` is where it keeps its database (the relays write one there). */
function twist(args: string[], cwd: string): ChildProcess {
  return spawn("twist3", args, { stdio: "ignore", cwd });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) =>
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${child.spawnfile} exited ${code}`)),
    ),
  );
}

function onPath(tool: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function version(): string {
  return execFileSync("wormhole", ["--version"]).toString().trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`send-recv-vs-wormhole: nothing listens on 127.0.0.1:${port} after 10 s`);
}
