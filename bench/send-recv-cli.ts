// send-recv-cli: the path users run, `syncline send FILE` → `syncline recv -o FILE` with both
// files on tmpfs, each command a fresh process as a user starts it, against the library path
// (stream-throughput's: ChannelClient in long-running processes, warmed up, payload made in
// memory) through the same server build, in the same run, alternating; and the library path once
// more reading the same file and writing its output to a file on the same tmpfs, which shows what
// the file I/O itself costs. Reports MiB/s medians and the ratios.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRole } from "./lib/child.js";
import { patternBytes } from "./lib/pattern.js";
import { median } from "./lib/stats.js";
import { librarySpeed } from "./stream-throughput.js";

const roles = new URL("./roles/", import.meta.url);
const cli = new URL("../src/cli/index.js", import.meta.url).pathname;

/** Files and keys a CLI transfer needs, in a folder on tmpfs. */
export interface CliBench {
  readonly dir: string;
  readonly key: string;
  /** The payload's file. */
  readonly input: string;
  /** The warm-up payload's file (80 MiB, as stream-throughput's warm-up). */
  readonly warmUp: string;
  readonly bytes: number;
}

/** Makes a folder on tmpfs (/dev/shm where there is one) with a key, authorized_keys and files. */
export function prepareCliBench(bytes: number): CliBench {
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "syncline-bench-cli-"));
  const key = join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-t", "ed25519", "-q", "-N", "", "-f", key]);
  writeFileSync(join(dir, "authorized_keys"), execFileSync("ssh-keygen", ["-y", "-f", key]));
  const input = join(dir, "payload.bin");
  writeFileSync(input, patternBytes(0, bytes));
  const warmUp = join(dir, "warm-up.bin");
  writeFileSync(warmUp, patternBytes(0, 80 * 1024 * 1024));
  return { dir, key, input, warmUp, bytes };
}

/** Runs the benchmark with a payload of `bytes`, `repetitions` per path. */
export async function sendRecvCli(bytes: number, repetitions: number) {
  const bench = prepareCliBench(bytes);
  const { dir, key, input } = bench;
  try {
    const cliRuns: number[] = [];
    const libraryRuns: number[] = [];
    const libraryFileRuns: number[] = [];
    const files = { input, outputDir: dir };
    for (let i = 0; i < repetitions; i++) {
      cliRuns.push(await cliSpeed(bench, i));
      libraryRuns.push(await librarySpeed(dir, key, bytes, i));
      libraryFileRuns.push(await librarySpeed(dir, key, bytes, i + repetitions, files));
    }
    const ours = median(cliRuns);
    const library = median(libraryRuns);
    const libraryFiles = median(libraryFileRuns);
    return {
      name: "send-recv-cli",
      payloadMiB: bytes / 1024 / 1024,
      repetitions,
      cli: { mibPerSecond: Math.round(ours), runs: cliRuns.map(Math.round) },
      library: { mibPerSecond: Math.round(library), runs: libraryRuns.map(Math.round) },
      /**
       * The library path reading and writing the same kind of files as the CLI: what the
       * commands cost beyond the file I/O any user of either must do.
       */
      libraryWithFiles: {
        mibPerSecond: Math.round(libraryFiles),
        runs: libraryFileRuns.map(Math.round),
      },
      ratio: Math.round((ours / library) * 100) / 100,
      ratioToLibraryWithFiles: Math.round((ours / libraryFiles) * 100) / 100,
      target: "cli >= 0.9x the library path",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One `send FILE` → `recv -o FILE` through a fresh server, warmed up; MiB/s from send's start. */
export async function cliSpeed(bench: CliBench, i: number): Promise<number> {
  const { dir, key, input, warmUp, bytes } = bench;
  const server = startRole(new URL("syncline-server.js", roles).pathname, [
    join(dir, `cli-data-${i}`),
    join(dir, "authorized_keys"),
  ]);
  try {
    const url = String((await server.next("ready")).url);
    // The server is long-running for users: warm it up as the library path's is (the commands
    // themselves start cold, as users start them).
    await transferWithCli(dir, key, url, warmUp, `warm-${i}`);
    const seconds = await transferWithCli(dir, key, url, input, `out-${i}`);
    return bytes / 1024 / 1024 / seconds;
  } finally {
    await server.stop();
  }
}

/** `recv -o` (started first, waiting) and `send FILE`; seconds from send's start to both done. */
async function transferWithCli(dir: string, key: string, url: string, input: string, name: string) {
  const output = join(dir, `${name}.bin`);
  const common = ["--channel", "bench", "--server", url, "--identity", key];
  const receiving = run(["recv", ...common, "-o", output], device(dir, "receiver"));
  // `recv` is waiting once it has subscribed; it says nothing until then, so give it time.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = Date.now();
  const sending = run(["send", input, ...common], device(dir, "sender"));
  await Promise.all([sending, receiving]);
  const seconds = (Date.now() - started) / 1000;
  if (statSync(output).size !== statSync(input).size) {
    throw new Error(`send-recv-cli: ${output} is not as long as ${input}`);
  }
  rmSync(output);
  return seconds;
}

/** The environment of one device: its own config folder (device id, known_hosts). */
function device(dir: string, name: string): NodeJS.ProcessEnv {
  const config = join(dir, `config-${name}`);
  mkdirSync(config, { recursive: true });
  return { ...process.env, XDG_CONFIG_HOME: config };
}

/** Runs the CLI; resolves when it exits 0, rejects with its stderr otherwise. */
function run(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`syncline ${args[0]} exited ${code}: ${stderr}`)),
    );
  });
}
