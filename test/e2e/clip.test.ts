// `syncline clip` as users run it: three devices, each its own config dir and SSH key, two on an
// X display (Xvfb) with the real xclip and one in a Wayland session (a headless sway) with the
// real wl-clipboard, syncing their clipboards through one `syncline serve`. A copy on one display
// appears on the others and does not come back; a PNG round-trips byte-identical, between X11 and
// Wayland too; rapid copies converge on the last one; a copy made while the server restarts
// arrives once it is back; a server with another host key at the same address is refused (trust
// on first use). Needs Xvfb, xclip, sway and wl-clipboard (the Debian packages of those names):
// fails under CI=true without them.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSway, type TestSway, waylandToolsMissing } from "../../src/clip/testing/sway.js";
import { generateTestKey, type TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import {
  runCliProcess,
  spawnCli,
  stopServe,
  waitForExit,
  waitForLine,
  waitForStderr,
} from "../helpers/cli.js";
import { freePort } from "../helpers/free-port.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { terminate } from "../helpers/terminate.js";

const missing = ["/usr/bin/Xvfb", "/usr/bin/xclip"].filter((path) => !existsSync(path));
const waylandMissing = waylandToolsMissing();
if (waylandMissing !== undefined) missing.push(waylandMissing);
const suite = "syncline clip between two X displays and a Wayland session";
if (missing.length > 0 && process.env.CI) {
  describe(suite, () => {
    it("has Xvfb, xclip, sway and wl-clipboard (required under CI=true)", () => {
      throw new Error(
        `${missing.join(", ")} missing: apt-get install -y xvfb xclip sway wl-clipboard`,
      );
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small valid PNG of random pixels (so each call is a different image). */
function randomPng(size: number): Buffer {
  const crc = (bytes: Buffer) => {
    let c = ~0;
    for (const byte of bytes) {
      c ^= byte;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(body));
    return Buffer.concat([head, body, tail]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const rows = Buffer.concat(
    Array.from({ length: size }, () => Buffer.concat([Buffer.from([0]), randomBytes(size * 3)])),
  );
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

describe.skipIf(missing.length > 0)(suite, () => {
  let dir: { path: string; remove: () => Promise<void> };
  const displays: { display: string; xvfb: ChildProcess }[] = [];
  const children: ChildProcess[] = [];
  let server: ChildProcess | undefined;
  let port = 0;
  const keys: TestKey[] = [];

  /** Starts Xvfb on a free display number; resolves once it accepts clients. */
  async function startDisplay(): Promise<string> {
    for (let number = 90 + displays.length * 7; number < 400; number++) {
      if (existsSync(`/tmp/.X11-unix/X${number}`) || existsSync(`/tmp/.X${number}-lock`)) continue;
      const display = `:${number}`;
      const xvfb = spawn("Xvfb", [display, "-screen", "0", "640x480x24", "-nolisten", "tcp"], {
        stdio: "ignore",
      });
      for (let i = 0; i < 50; i++) {
        if (existsSync(`/tmp/.X11-unix/X${number}`)) {
          displays.push({ display, xvfb });
          return display;
        }
        await sleep(100);
      }
      xvfb.kill("SIGKILL");
    }
    throw new Error("no free X display for Xvfb");
  }

  const xclip = (display: string, args: string[], input?: Buffer) =>
    new Promise<Buffer>((resolve, reject) => {
      const child = execFile(
        "xclip",
        ["-selection", "clipboard", ...args],
        {
          env: { ...process.env, DISPLAY: display },
          encoding: "buffer",
          timeout: 5000,
          maxBuffer: 16 * 1024 * 1024,
        },
        (error, stdout) => (error && input === undefined ? reject(error) : resolve(stdout)),
      );
      if (input !== undefined) {
        child.stdin?.end(input);
      }
    });
  /**
   * Copies as a user would, with a tool (xclip, wl-copy) that forks a child to serve the item
   * until another copy takes it: only the tool's own exit is waited for, with no pipe the child
   * holds.
   */
  const copyWith = (command: string, args: string[], env: NodeJS.ProcessEnv, bytes: Buffer) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, args, { env, stdio: ["pipe", "ignore", "ignore"] });
      child.once("error", reject);
      child.once("exit", (code) =>
        code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)),
      );
      child.stdin?.end(bytes);
    });
  /** Copies on an X display. */
  const copy = (display: string, bytes: Buffer, type = "UTF8_STRING") =>
    copyWith(
      "xclip",
      ["-selection", "clipboard", "-t", type, "-i"],
      { ...process.env, DISPLAY: display },
      bytes,
    );
  const paste = (display: string, type = "UTF8_STRING") =>
    xclip(display, ["-t", type, "-o"]).catch(() => Buffer.alloc(0));
  /** Copies in the Wayland session. */
  const wlCopy = (bytes: Buffer, type = "text/plain;charset=utf-8") =>
    copyWith("wl-copy", ["--type", type], { ...process.env, ...sway.env }, bytes);
  /** Pastes in the Wayland session; nothing when it fails (nothing copied yet). */
  const wlPaste = (type = "text/plain;charset=utf-8") =>
    new Promise<Buffer>((resolve) => {
      execFile(
        "wl-paste",
        ["--no-newline", "--type", type],
        {
          env: { ...process.env, ...sway.env },
          encoding: "buffer",
          timeout: 5000,
          maxBuffer: 16 * 1024 * 1024,
        },
        (error, stdout) => resolve(error ? Buffer.alloc(0) : stdout),
      );
    });

  /** Starts `syncline serve` on the test's port; its host key lives in the `name` data folder. */
  async function startServer(name = "server"): Promise<void> {
    server = spawnCli(
      [
        ...[
          "serve",
          "--port",
          String(port),
          "--authorized-keys",
          join(dir.path, "authorized_keys"),
        ],
        ...["--data", join(dir.path, name), "--shutdown-timeout", "1000"],
      ],
      { env: { XDG_CONFIG_HOME: join(dir.path, `${name}-config`), SYNCLINE_CONFIG: "" } },
    );
    await waitForLine(server, /^listening on http/, 15_000);
  }

  /**
   * A device: its home, key and session (an X display, or a Wayland socket), running `syncline
   * clip`; its stdout lines.
   */
  async function startDevice(
    name: string,
    key: TestKey,
    session: string | TestSway["env"],
    poll = false,
  ) {
    const home = join(dir.path, "homes", name);
    mkdirSync(home, { recursive: true });
    const child = spawnCli(
      [
        ...["clip", "--server", `ws://127.0.0.1:${port}`, "--identity", key.privatePath],
        ...["--device-name", name, "--poll-interval", "100", "--debounce", "150"],
        ...(poll ? ["--poll"] : []),
      ],
      {
        env: {
          HOME: home,
          XDG_CONFIG_HOME: join(home, ".config"),
          SYNCLINE_CONFIG: undefined,
          SSH_AUTH_SOCK: undefined,
          ...(typeof session === "string"
            ? { DISPLAY: session, WAYLAND_DISPLAY: undefined }
            : { DISPLAY: undefined, ...session }),
        },
      },
    );
    children.push(child);
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    // A polls (--poll); B hears of changes from the X server (XFIXES), C from the compositor.
    const backend = typeof session === "string" ? "x11-xclip" : "wayland";
    const watching = poll ? "polling every 100 ms" : "change notices";
    await waitForStderr(
      child,
      new RegExp(`^clip: ${backend} clipboard \\(${watching}\\)`, "m"),
      10_000,
    );
    return { child, lines: () => out.split("\n").filter(Boolean) };
  }

  async function until(check: () => Promise<boolean> | boolean, what: string, ms = 10_000) {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  let a: Awaited<ReturnType<typeof startDevice>>;
  let b: Awaited<ReturnType<typeof startDevice>>;
  let c: Awaited<ReturnType<typeof startDevice>>;
  let sway: TestSway;
  let displayA: string;
  let displayB: string;

  beforeAll(async () => {
    dir = await createTempDir("syncline-clip-");
    keys.push(generateTestKey(dir.path, "ed25519", { name: "laptop" }));
    keys.push(generateTestKey(dir.path, "ed25519", { name: "desktop" }));
    keys.push(generateTestKey(dir.path, "ed25519", { name: "tablet" }));
    writeFileSync(join(dir.path, "authorized_keys"), keys.map((key) => key.publicLine).join("\n"));
    port = await freePort();
    await startServer();
    displayA = await startDisplay();
    displayB = await startDisplay();
    a = await startDevice("laptop", keys[0] as TestKey, displayA, true);
    b = await startDevice("desktop", keys[1] as TestKey, displayB);
    sway = await startSway();
    c = await startDevice("tablet", keys[2] as TestKey, sway.env);
    await sleep(500); // all subscribed
  }, 60_000);

  afterAll(async () => {
    for (const child of children) await terminate(child, 2000);
    if (server) await terminate(server, 2000);
    for (const { xvfb } of displays) xvfb.kill("SIGKILL");
    await sway?.stop();
    await dir?.remove();
  }, 30_000);

  it("a copy on display A appears on display B and in the Wayland session, and does not come back", async () => {
    await copy(displayA, Buffer.from("hello from the laptop ✓"));
    await until(
      async () => (await paste(displayB)).toString() === "hello from the laptop ✓",
      "the text on display B",
    );
    await until(
      async () => (await wlPaste()).toString() === "hello from the laptop ✓",
      "the text in the Wayland session",
    );
    await until(() => b.lines().some((line) => line.startsWith("← applied text")), "B's line");
    expect(b.lines()).toContain("← applied text 25 B from laptop");
    await until(() => c.lines().some((line) => line.startsWith("← applied text")), "C's line");
    expect(c.lines()).toContain("← applied text 25 B from laptop");
    await sleep(600); // several looks of B and C: neither may send the item back
    expect(a.lines()).toEqual(["→ sent text 25 B"]);
    expect(b.lines().filter((line) => line.startsWith("→"))).toEqual([]);
    expect(c.lines().filter((line) => line.startsWith("→"))).toEqual([]);
  });

  it("between X11 and Wayland: a copy in the session reaches the X displays, an X11 image the session", async () => {
    await wlCopy(Buffer.from("from the tablet, on Wayland"));
    for (const display of [displayA, displayB]) {
      await until(
        async () => (await paste(display)).toString() === "from the tablet, on Wayland",
        `the Wayland copy on ${display}`,
      );
    }
    await until(() => c.lines().includes("→ sent text 27 B"), "C's sent line");
    const image = randomPng(300);
    await copy(displayB, image, "image/png");
    await until(async () => (await wlPaste("image/png")).equals(image), "the PNG in the session");
    expect(c.lines().at(-1)).toMatch(/^← applied image .* from desktop$/);
  });

  it("an image round-trips byte-identical", async () => {
    const image = randomPng(200);
    await copy(displayB, image, "image/png");
    await until(
      async () => (await paste(displayA, "image/png")).equals(image),
      "the PNG on display A",
    );
    expect(a.lines().at(-1)).toMatch(/^← applied image .* from desktop$/);
  });

  it("a 2 MiB image it applied pastes at once, again and again, while it watches", async () => {
    // xclip serves an item this large to one reader at a time: clip must not be reading it too.
    const image = randomPng(860);
    expect(image.length).toBeGreaterThan(2 * 1024 * 1024);
    await copy(displayB, image, "image/png");
    await until(
      async () => (await paste(displayA, "image/png")).equals(image),
      "the 2 MiB PNG on display A",
    );
    for (let i = 0; i < 15; i++) {
      const started = Date.now();
      expect((await paste(displayA, "image/png")).equals(image)).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
      await sleep(50);
    }
  });

  it("rapid copies converge on the last one", async () => {
    for (let i = 0; i < 8; i++) {
      await copy(displayA, Buffer.from(`rapid ${i}`));
      await sleep(30);
    }
    await until(async () => (await paste(displayB)).toString() === "rapid 7", "the last copy on B");
    await sleep(500);
    expect((await paste(displayB)).toString()).toBe("rapid 7");
    expect((await paste(displayA)).toString()).toBe("rapid 7");
  });

  it("a copy made while the server restarts arrives once it is back", async () => {
    if (server) await stopServe(server);
    await copy(displayA, Buffer.from("made while the server was down"));
    await sleep(500);
    await startServer();
    await until(
      async () => (await paste(displayB)).toString() === "made while the server was down",
      "the copy on B after the restart",
      30_000,
    );
  }, 60_000);

  it("refuses a server with another host key at the same address", async () => {
    if (server) await stopServe(server);
    // Another server (another data directory: another host key) on the same port.
    await startServer("impostor");
    const ended = await waitForExit(a.child, 30_000);
    expect(ended.code).toBe(8);
    expect(ended.stderr).toMatch(/host key/i);
  }, 60_000);
});

describe("syncline clip: bad input and a missing clipboard", () => {
  const env = (extra: NodeJS.ProcessEnv = {}) => ({
    HOME: "/nonexistent-home",
    XDG_CONFIG_HOME: "/nonexistent-config",
    SYNCLINE_CONFIG: undefined,
    SSH_AUTH_SOCK: undefined,
    DISPLAY: undefined,
    WAYLAND_DISPLAY: undefined,
    ...extra,
  });

  it("refuses a malformed --max-bytes, --poll-interval or --debounce with exit 2, naming it", async () => {
    for (const [flag, value] of [
      ["--max-bytes", "lots"],
      ["--max-bytes", "0"],
      ["--poll-interval", "-5"],
      ["--debounce", "1.5"],
    ] as const) {
      const result = await runCliProcess(["clip", flag, value, "--json"], { env: env() });
      expect(result.code, `${flag} ${value}`).toBe(2);
      expect(result.stdout + result.stderr).toContain(flag);
    }
  });

  it("without a graphical session, exits 2 with ERR_CLIPBOARD_UNAVAILABLE saying what is missing", async () => {
    const result = await runCliProcess(["clip", "--json"], { env: env() });
    expect(result.code).toBe(2);
    const answer = JSON.parse(result.stdout.trim().split("\n").at(-1) as string);
    expect(answer).toMatchObject({ ok: false, error: { code: "ERR_CLIPBOARD_UNAVAILABLE" } });
    expect(answer.error.message).toMatch(/DISPLAY|WAYLAND_DISPLAY/);
  });
});
