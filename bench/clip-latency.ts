// clip-latency: copy on one machine, paste on another. Two devices, each `syncline clip --json`
// as users run it (its own SSH key, config folder and X display: Xvfb, with the real xclip),
// through one `syncline serve` on loopback (its data on disk, as a server's is). A copy is an
// `xclip -i` on display A; it counts as arrived when B's `clip` prints its "applied" event, which
// it does once its own `xclip -i` has exited, i.e. once B's clipboard holds the item; one paste on
// B then checks the bytes (not timed: polling B's clipboard every few ms would itself load the
// two cores, and reads 2 MiB each time for the image). Text (100 B) and a 2 MiB PNG of random
// pixels, every copy distinct. Against: `syncline send FILE` → `syncline recv -o FILE` of the same
// bytes, each a fresh process as users start them (recv started first and waiting), timed from
// starting send to recv's exit, same count, same server, same run, alternating in rounds.
//
// clip publishes a copy once it held --debounce D. At its defaults on X11 it hears of each copy
// from the X server (XFIXES), so a copy waits D before anything of ours runs: that is the floor.
// With --poll (what users get where there is no change notice) it looks every --poll-interval P,
// and a copy waits D plus up to P: a floor of D + U(0, P) when copies land at random moments
// (the gaps between copies are randomised for that), p50 D + P/2, p99 D + 0.99 P. What lies above
// the floor is our own cost (clipboard reads, hashing, the publish, the server, the apply), and
// is reported as `aboveFloor`. Run at clip's defaults (what users get), and polling.
//
// The paste on B is what a user does too. xclip serves a large item to one reader at a time, so
// were B's clip reading the same item, the paste would collide with it (clip does not re-read an
// item it applied, see src/clip/x11.ts): such copies would be counted in the figures, flagged,
// and the figures without them given beside (Sample.collided). Also: the CPU the two clips use
// while the image sits on both clipboards.

import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomPng } from "../src/clip/testing/test-png.js";
import { startXvfb, type TestXvfb } from "../src/clip/testing/xvfb.js";
import { findOnPath } from "../src/clip/which.js";
import { monotonicMs } from "./lib/clock.js";
import { median, quantile } from "./lib/stats.js";

const cli = new URL("../src/cli/index.js", import.meta.url).pathname;

/** One poll/debounce pair `syncline clip` runs with. */
export interface ClipSetting {
  readonly pollIntervalMs: number;
  readonly debounceMs: number;
  /** `--poll`: look every pollIntervalMs instead of hearing of changes from the X server. */
  readonly poll: boolean;
}

/** The key of a setting in the results: `notices-debounce100`, `poll200-debounce100`. */
function settingKey(setting: ClipSetting): string {
  const watch = setting.poll ? `poll${setting.pollIntervalMs}` : "notices";
  return `${watch}-debounce${setting.debounceMs}`;
}

/** What to run. */
export interface ClipLatencyOptions {
  /** Copies per kind and setting, and transfers per kind for send/recv (over all rounds). */
  readonly copies: number;
  /** Rounds, each on a fresh server: clip copies, then send/recv transfers. */
  readonly rounds: number;
  readonly textBytes: number;
  /** About this size: the PNG's pixels are chosen for it. */
  readonly imageBytes: number;
  /** The first is the headline (clip's defaults); the others show how the floor moves. */
  readonly settings: readonly ClipSetting[];
}

/** How long the idle CPU of the clips is measured for, per setting and round. */
const idleSeconds = 5;

/**
 * Copies per pair of clip processes: each block starts them afresh, B's at a random point of A's
 * poll cycle. Started together, their polls would tick in step for the whole run, and where B's
 * poll falls when an item arrives (and the paste on B after it) would be the same every copy.
 */
const blockSize = 10;

type Kind = "text" | "image";
const kinds: readonly Kind[] = ["text", "image"];
const xclipType: Record<Kind, string> = { text: "UTF8_STRING", image: "image/png" };

/** One measured copy (or transfer), ms on the machine's monotonic clock. */
interface Sample {
  /** Copy done on A (xclip -i exited) or send started → B's clipboard (or recv's file) holds it. */
  readonly latencyMs: number;
  /** Copy done on A → A's clip said "sent" (poll wait, debounce, reads, publish and receipt). */
  readonly sentMs?: number;
  /** How long the copy itself took (xclip -i from spawn to exit), not part of the latency. */
  readonly copyMs?: number;
  /**
   * A clipboard read collided during this copy: a device's clip reported a failed xclip run (its
   * read timed out after 10 s, holding up what it does next), or the paste on B failed or gave
   * other bytes. xclip serves a large selection (INCR, e.g. the 2 MiB image) to one requestor
   * at a time and loses or garbles a second request meanwhile: B's clip polling the image it
   * applied and the paste on B (ours, or a user's) are two requestors.
   */
  readonly collided?: boolean;
}

/** A kind's samples and what went wrong with the rest. */
interface Tally {
  /** Every copy B's clip applied (collided ones too: they are what a user would have seen). */
  readonly samples: Sample[];
  /** Copies B's clip never applied within the deadline. */
  lost: number;
  /** Copies applied, but whose paste on B failed or gave other bytes. */
  mismatched: number;
  /**
   * Blocks ended by a lost copy. When a reader of a large item goes away mid-transfer (clip
   * kills a clipboard read after 10 s), the xclip serving it may answer no one any more: B's clip
   * stops applying: each of its reads now waits the 10 s, and as a read starts every poll
   * interval whatever the last one is doing, the reads queue up ahead of any apply for good.
   * Only another copy on B ends it; the next block makes one (as a user would have to).
   */
  cutShort: number;
  /** Blocks whose unmeasured copy (warm-up or closing text) never arrived, given up. */
  abandoned: number;
}

export async function clipLatency(options: ClipLatencyOptions) {
  // Only these two: xsel, which the X11 tests also want, plays no part here.
  const missing = ["Xvfb", "xclip"].filter((name) => !findOnPath(name, process.env));
  if (missing.length > 0) {
    return {
      name: "clip-latency",
      skipped: `${missing.join(", ")} not on PATH (Debian: apt-get install -y xvfb xclip)`,
    };
  }
  // On disk, not tmpfs: the server stores each channel's latest payload durably (flush), as a
  // real server does, and that is part of what a copy goes through.
  const dir = mkdtempSync(join(tmpdir(), "syncline-bench-clip-"));
  const displays: TestXvfb[] = [];
  const load = [loadavg()[0]];
  try {
    const keys = {
      a: keyPair(dir, "laptop"),
      b: keyPair(dir, "desktop"),
    };
    writeFileSync(
      join(dir, "authorized_keys"),
      `${readFileSync(`${keys.a}.pub`, "utf8")}${readFileSync(`${keys.b}.pub`, "utf8")}`,
    );
    displays.push(await startXvfb(), await startXvfb());
    const [displayA, displayB] = displays.map((x) => x.display) as [string, string];
    const image = pngOf(options.imageBytes);
    const clip = options.settings.map(() => ({ text: tally(), image: tally() }));
    const sendRecv = { text: tally(), image: tally() };
    const wrongWay = options.settings.map(() => 0);
    const idleCpu = options.settings.map((): number[] => []);
    const perRound = Math.ceil(options.copies / options.rounds);
    let serial = 0;
    /** The text both clipboards and the channel hold between blocks. */
    let settled = textOf(options.textBytes, 0);
    const item = (kind: Kind) => {
      serial += 1;
      return kind === "text" ? textOf(options.textBytes, serial) : image();
    };
    for (let round = 0; round < options.rounds; round++) {
      const count = Math.min(perRound, options.copies - round * perRound);
      // A fresh server each round: send/recv uses a channel per transfer (a waiting recv takes
      // a channel's latest payload at once), and the store keeps each one's latest; 100 × 2 MiB
      // stays under its 256 MiB retain total, past which payloads would go to the spool instead.
      const server = await startServe(dir, round);
      try {
        for (const [index, setting] of options.settings.entries()) {
          const results = clip[index] as Record<Kind, Tally>;
          for (const kind of kinds) {
            const into = results[kind];
            let attempted = 0;
            let abandonedHere = 0;
            while (attempted < count) {
              // Both displays start each block holding the channel's latest item (the closing
              // text of the block before): this takes the clipboard from whatever served it,
              // which may be an xclip stuck for good (see Tally.cutShort), and leaves the new
              // clips nothing to send or apply as they start.
              await xclipCopy(displayA, settled, xclipType.text);
              await xclipCopy(displayB, settled, xclipType.text);
              const devices = await startDevices(dir, keys, [displayA, displayB], server, setting);
              try {
                const copy = (kind: Kind, bytes: Buffer, into?: Tally) =>
                  copyOnce(devices, displayA, displayB, kind, bytes, setting, into);
                /** An unmeasured copy that must arrive, tried a few times; its bytes. */
                const unmeasured = async (kind: Kind) => {
                  for (let attempt = 1; ; attempt++) {
                    const bytes = item(kind);
                    const arrived = await copy(kind, bytes).then(
                      () => true,
                      (error) => {
                        if (attempt === 3) throw error;
                        return false;
                      },
                    );
                    if (arrived) return bytes;
                  }
                };
                // Proves both are up (clip --json says nothing until something happens) and
                // warms them up. A copy made before A's clip first read the clipboard is taken
                // as what it already held and never sent: hence the tries.
                await unmeasured(kind);
                const block = Math.min(blockSize, count - attempted);
                let lost = false;
                for (let i = 0; i < block && !lost; i++) {
                  attempted += 1;
                  lost = !(await copy(kind, item(kind), into));
                }
                // A lost copy means B's clip has stopped applying: the next block starts over.
                if (lost) into.cutShort += 1;
                else if (kind === "image" && attempted >= count) {
                  idleCpu[index]?.push(await idleCpuPercent(devices));
                }
                // Leaves a short text on both clipboards and as the channel's latest, so the
                // next block's clips start on it: not on a 2 MiB image that every poll would
                // read, nor applying the channel's latest on B as they connect.
                settled = await unmeasured("text");
                // Items going the wrong way: B sending (its clipboard read back as something
                // new, e.g. a garbled read) or A applying. There should be none.
                for (const [device, type] of [
                  [devices.b, "sent"],
                  [devices.a, "applied"],
                ] as const) {
                  const wrong = device.events.filter((e) => e.type === type).length;
                  wrongWay[index] = (wrongWay[index] ?? 0) + wrong;
                }
              } catch (error) {
                // An unmeasured copy never arrived: the block is given up, the next starts over
                // (a few times, not for ever).
                into.abandoned += 1;
                abandonedHere += 1;
                process.stderr.write(`clip-latency: ${kind} block given up: ${error}\n`);
                if (abandonedHere === 3) {
                  process.stderr.write(
                    `clip-latency: ${kind}: ${count - attempted} copies not made\n`,
                  );
                  break;
                }
              } finally {
                await Promise.all([devices.a.stop(), devices.b.stop()]);
              }
            }
          }
        }
        for (const kind of kinds) {
          for (let i = 0; i < count; i++) {
            await sendRecvOnce(dir, keys, server.url, `bench-${round}-${kind}-${i}`, item(kind))
              .then((sample) => sendRecv[kind].samples.push(sample))
              .catch((error) => {
                sendRecv[kind].lost += 1;
                process.stderr.write(`clip-latency: send/recv ${kind}: ${error}\n`);
              });
          }
        }
      } finally {
        await server.stop();
      }
      load.push(loadavg()[0]);
    }
    const headline = options.settings[0] as ClipSetting;
    const sendRecvSummary = { text: summary(sendRecv.text), image: summary(sendRecv.image) };
    const clipSummaries = options.settings.map((setting, index) => {
      const results = clip[index] as Record<Kind, Tally>;
      return {
        /** How clip watched: the X server's change notices, or polling. */
        watch: setting.poll ? "poll" : "notices",
        pollIntervalMs: setting.pollIntervalMs,
        debounceMs: setting.debounceMs,
        /** B's "sent" and A's "applied" events, warm-ups included: should be 0. */
        wrongWay: wrongWay[index],
        /** idleCpuPercent with the image on both clipboards, median of rounds. */
        idleCpuPercentWithImage: round2(median(idleCpu[index] as number[])),
        text: summary(results.text, setting),
        image: summary(results.image, setting),
      };
    });
    const [defaults, ...others] = clipSummaries;
    return {
      name: "clip-latency",
      copies: options.copies,
      rounds: options.rounds,
      textBytes: options.textBytes,
      imageBytes: image.size,
      /** `syncline clip` at its defaults (--poll-interval, --debounce): what users get. */
      clip: defaults,
      /** The same at other settings, keyed as settingKey. */
      clipAt: Object.fromEntries(
        others.map((summary, index) => [
          settingKey(options.settings[index + 1] as ClipSetting),
          summary,
        ]),
      ),
      sendRecv: sendRecvSummary,
      measured:
        "clip: copy done on A (xclip -i exited) → B's clip printed applied (its xclip -i exited), bytes then checked by a paste on B; send/recv: send started → recv exited, file checked",
      /** 1-minute load average at the start and after each round (2 shared cores). */
      loadAverage: load.map((x) => round2(x ?? 0)),
      targets: {
        p99Ms: 500,
        p99OverSendRecvMs: `send/recv p99 + ${headline.pollIntervalMs} (the poll interval)`,
        met: Object.fromEntries(
          kinds.map((kind) => {
            const ours = defaults?.[kind].p99Ms ?? Number.NaN;
            const peer = sendRecvSummary[kind].p99Ms + headline.pollIntervalMs;
            return [kind, { p99Under500: ours <= 500, p99UnderSendRecvPlusPoll: ours <= peer }];
          }),
        ),
      },
    };
  } finally {
    for (const display of displays) await display.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const tally = (): Tally => ({ samples: [], lost: 0, mismatched: 0, cutShort: 0, abandoned: 0 });

/** p50/p99 and more of `latencies`, ms. */
function spread(latencies: readonly number[]) {
  return {
    count: latencies.length,
    p50Ms: round2(quantile(latencies, 0.5)),
    p99Ms: round2(quantile(latencies, 0.99)),
    meanMs: round2(latencies.reduce((sum, x) => sum + x, 0) / latencies.length),
    minMs: round2(Math.min(...latencies)),
    maxMs: round2(Math.max(...latencies)),
  };
}

/** p50/p99 and, for clip, the floor poll + debounce put under it and what lies above that. */
function summary(results: Tally, setting?: ClipSetting) {
  const all = spread(results.samples.map((s) => s.latencyMs));
  const base = { ...all, lost: results.lost };
  if (setting === undefined) return base;
  const { debounceMs: debounce } = setting;
  // Change notices: nothing to wait for but the debounce (poll 0 below).
  const poll = setting.poll ? setting.pollIntervalMs : 0;
  const clean = results.samples.filter((s) => !s.collided);
  const calm = spread(clean.map((s) => s.latencyMs));
  const sent = clean.flatMap((s) => (s.sentMs === undefined ? [] : [s.sentMs]));
  const copy = results.samples.flatMap((s) => (s.copyMs === undefined ? [] : [s.copyMs]));
  return {
    ...base,
    mismatched: results.mismatched,
    cutShort: results.cutShort,
    abandoned: results.abandoned,
    /** Copies during which a clipboard read collided (Sample.collided); counted in the above. */
    collided: results.samples.length - clean.length,
    /** The copies without a collision: clip's own path. */
    withoutCollisions: calm,
    /** Copy → A's "sent" (which comes once the server acknowledged the item), no collision. */
    sentP50Ms: round2(quantile(sent, 0.5)),
    sentP99Ms: round2(quantile(sent, 0.99)),
    /** The copy itself (xclip -i on A), before the latency starts. */
    copyP50Ms: round2(quantile(copy, 0.5)),
    /** Debounce (+ a uniform wait for A's next poll with --poll): nothing of ours has run yet. */
    floor: {
      minMs: debounce,
      p50Ms: debounce + poll / 2,
      p99Ms: round2(debounce + 0.99 * poll),
    },
    /**
     * Our own cost above the floor, of the copies without a collision. The poll's phase is not
     * seen per copy, so it is estimated from the distributions: the mean's excess is the mean
     * cost; min - debounce is the cost when a copy landed just before a poll.
     */
    aboveFloor: {
      minMs: round2(calm.minMs - debounce),
      p50Ms: round2(calm.p50Ms - (debounce + poll / 2)),
      meanMs: round2(calm.meanMs - (debounce + poll / 2)),
      p99Ms: round2(calm.p99Ms - (debounce + 0.99 * poll)),
    },
  };
}

/** An ed25519 key without a passphrase; the private key's path. */
function keyPair(dir: string, name: string): string {
  const key = join(dir, `id_${name}`);
  execFileSync("ssh-keygen", ["-t", "ed25519", "-q", "-N", "", "-C", name, "-f", key]);
  return key;
}

/** `bytes` of printable ASCII text, distinct for each `serial`. */
function textOf(bytes: number, serial: number): Buffer {
  const head = `clip-latency copy ${serial} `;
  const tail = randomBytes(bytes).toString("hex");
  return Buffer.from((head + tail).slice(0, bytes), "ascii");
}

/**
 * Makes PNGs of random pixels (incompressible, so the file is about as big as its pixels) of
 * about `bytes`; each call a new image. Made between copies, never inside a measured one.
 */
function pngOf(bytes: number): { (): Buffer; size: number } {
  const width = 1024;
  // RGBA rows of 4 bytes a pixel plus a filter byte.
  const height = Math.max(1, Math.round(bytes / (width * 4 + 1)));
  const make = () => randomPng(width, height);
  return Object.assign(make, { size: make().length });
}

/** A running `syncline serve`. */
interface Serve {
  readonly url: string;
  stop(): Promise<void>;
}

/** `syncline serve` as users run it, on a free port; one host key for every round, so the
 * devices' known_hosts (trust on first use) never sees another key at a port used before. */
async function startServe(dir: string, round: number): Promise<Serve> {
  const child = spawn(
    process.execPath,
    [
      cli,
      "serve",
      ...["--port", "0", "--json", "--log-level", "warn"],
      ...["--data", join(dir, `server-${round}`), "--host-key", join(dir, "host_key")],
      ...["--authorized-keys", join(dir, "authorized_keys")],
    ],
    {
      env: { ...process.env, XDG_CONFIG_HOME: join(dir, "server-config"), SYNCLINE_CONFIG: "" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const line = await firstLine(child, 15_000, "syncline serve");
  const { url } = JSON.parse(line) as { url: string };
  return {
    url: url.replace(/^http/, "ws"),
    stop: () => stopChild(child, exited),
  };
}

/** What a device's clip printed: one event a line, stamped when we read it. */
interface ClipEventLine {
  readonly type: string;
  readonly at: number;
  readonly text: string;
}

/** A running `syncline clip --json` on one display. */
interface Device {
  readonly pid: number;
  readonly events: ClipEventLine[];
  /** How many "error" events it printed so far. */
  errors(): number;
  /** Resolves with the first event of `type` from index `from` on. */
  waitFor(type: string, from: number, timeoutMs: number): Promise<ClipEventLine>;
  stop(): Promise<void>;
}

async function startDevice(
  dir: string,
  name: string,
  key: string,
  display: string,
  url: string,
  setting: ClipSetting,
): Promise<Device> {
  const home = join(dir, "homes", name);
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    DISPLAY: display,
  };
  // Only this display's clipboard, this key and no config of whoever runs the bench.
  for (const name of ["WAYLAND_DISPLAY", "SYNCLINE_CONFIG", "SSH_AUTH_SOCK"]) delete env[name];
  const child = spawn(
    process.execPath,
    [
      cli,
      "clip",
      ...["--server", url, "--identity", key, "--device-name", name, "--json"],
      ...["--poll-interval", String(setting.pollIntervalMs)],
      ...["--debounce", String(setting.debounceMs)],
      ...(setting.poll ? ["--poll"] : []),
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const events: ClipEventLine[] = [];
  const arrived = new EventEmitter();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (text) => {
    // Stamped first: this is the moment the event is known outside the process.
    const at = monotonicMs();
    let type = "unparsed";
    try {
      type = String((JSON.parse(text) as { type?: unknown }).type);
    } catch {}
    if (type === "error" || type === "skipped" || type === "unparsed") {
      process.stderr.write(`clip-latency: ${name}: ${text}\n`);
    }
    events.push({ type, at, text });
    arrived.emit("event");
  });
  return {
    pid: child.pid ?? 0,
    events,
    errors: () => events.filter((e) => e.type === "error").length,
    waitFor: (type, from, timeoutMs) =>
      new Promise((resolve, reject) => {
        const look = () => {
          const found = events.slice(from).find((e) => e.type === type);
          if (found === undefined) return false;
          clearTimeout(timer);
          arrived.off("event", look);
          child.off("exit", early);
          resolve(found);
          return true;
        };
        const early = () => {
          arrived.off("event", look);
          clearTimeout(timer);
          reject(new Error(`clip on ${name} exited: ${stderr.trim()}`));
        };
        const timer = setTimeout(() => {
          arrived.off("event", look);
          child.off("exit", early);
          reject(new Error(`no "${type}" from clip on ${name} within ${timeoutMs} ms`));
        }, timeoutMs);
        if (look()) return;
        arrived.on("event", look);
        child.once("exit", early);
      }),
    stop: () => stopChild(child, exited),
  };
}

/** A's clip, then B's after a random part of the poll interval (see blockSize), then a second
 * for both to connect. */
async function startDevices(
  dir: string,
  keys: { a: string; b: string },
  [displayA, displayB]: readonly [string, string],
  server: Serve,
  setting: ClipSetting,
): Promise<{ a: Device; b: Device }> {
  const a = await startDevice(dir, "laptop", keys.a, displayA, server.url, setting);
  await sleep(Math.random() * setting.pollIntervalMs);
  const b = await startDevice(dir, "desktop", keys.b, displayB, server.url, setting);
  await sleep(1000);
  return { a, b };
}

/**
 * CPU % of one core both clips (with the xclip runs they waited for) use over idleSeconds of
 * nothing but polling, with the image on both clipboards: every poll reads the whole item.
 */
async function idleCpuPercent(devices: { a: Device; b: Device }): Promise<number> {
  const cpu = () => cpuWithChildren(devices.a.pid) + cpuWithChildren(devices.b.pid);
  const before = cpu();
  const started = monotonicMs();
  await sleep(idleSeconds * 1000);
  return ((cpu() - before) / ((monotonicMs() - started) / 1000)) * 100;
}

/**
 * One copy on A until B holds it; measured into `into` when given (false if it never came),
 * else unmeasured (it must arrive). A random pause after it puts the next copy at a random point of A's poll cycle.
 */
async function copyOnce(
  devices: { a: Device; b: Device },
  displayA: string,
  displayB: string,
  kind: Kind,
  bytes: Buffer,
  setting: ClipSetting,
  into?: Tally,
): Promise<boolean> {
  const fromA = devices.a.events.length;
  const fromB = devices.b.events.length;
  const errors = () => devices.a.errors() + devices.b.errors();
  const errorsBefore = errors();
  const started = monotonicMs();
  await xclipCopy(displayA, bytes, xclipType[kind]);
  const copied = monotonicMs();
  try {
    // Far above any latency we expect, and above the 10 s a stuck clipboard read may hold
    // B's clip up: only a copy that is really lost waits this long. A warm-up that does not
    // come in 12 s is retried sooner (A's clip may not have been reading yet).
    const applied = await devices.b.waitFor("applied", fromB, into ? 30_000 : 12_000);
    const sent = await devices.a.waitFor("sent", fromA, 5000).catch(() => undefined);
    const pasted = await xclipPaste(displayB, xclipType[kind]).catch(() => undefined);
    const confirmed = pasted?.equals(bytes) === true;
    if (!into) {
      if (!confirmed) throw new Error(`unmeasured ${kind}: the paste on B gave other bytes`);
      return true;
    }
    if (!confirmed) into.mismatched += 1;
    into.samples.push({
      latencyMs: applied.at - copied,
      copyMs: copied - started,
      ...(sent ? { sentMs: sent.at - copied } : {}),
      collided: !confirmed || errors() > errorsBefore,
    });
    return true;
  } catch (error) {
    if (!into) throw error;
    into.lost += 1;
    process.stderr.write(`clip-latency: ${kind} copy lost: ${error}\n`);
    return false;
  } finally {
    await sleep(50 + Math.random() * setting.pollIntervalMs);
  }
}

/**
 * Copies on `display` as a user's application would. xclip forks a child that serves the
 * selection until another copy takes it: only the parent's exit is waited for, and the child is
 * given no pipe of ours to hold open.
 */
function xclipCopy(display: string, bytes: Buffer, type: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("xclip", ["-selection", "clipboard", "-t", type, "-i"], {
      env: { ...process.env, DISPLAY: display },
      stdio: ["pipe", "ignore", "ignore"],
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`xclip -i exited with ${code}`)),
    );
    child.stdin?.end(bytes);
  });
}

/** Pastes from `display` (`xclip -o`). */
function xclipPaste(display: string, type: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      "xclip",
      ["-selection", "clipboard", "-t", type, "-o"],
      {
        env: { ...process.env, DISPLAY: display },
        encoding: "buffer",
        timeout: 10_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

/**
 * `recv --channel C -o FILE`, started first and given a second to subscribe (it says nothing
 * until a payload comes), then `send FILE --channel C`: send's start → recv's exit.
 */
async function sendRecvOnce(
  dir: string,
  keys: { a: string; b: string },
  url: string,
  channel: string,
  bytes: Buffer,
): Promise<Sample> {
  const input = join(dir, "send-input");
  const output = join(dir, "recv-output");
  writeFileSync(input, bytes);
  rmSync(output, { force: true });
  const common = ["--channel", channel, "--server", url];
  const receiving = runCli(
    ["recv", ...common, "--identity", keys.b, "-o", output],
    configOf(dir, "receiver"),
  );
  await Promise.race([receiving.exit, sleep(1000)]);
  const started = monotonicMs();
  const sending = runCli(["send", input, ...common, "--identity", keys.a], configOf(dir, "sender"));
  await receiving.exit;
  const done = monotonicMs();
  await sending.exit;
  if (!readFileSync(output).equals(bytes)) throw new Error(`${output} holds other bytes`);
  return { latencyMs: done - started };
}

/** The environment of one send/recv device: its own config folder (device id, known_hosts). */
function configOf(dir: string, name: string): NodeJS.ProcessEnv {
  const config = join(dir, `config-${name}`);
  mkdirSync(config, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: config };
  delete env.SYNCLINE_CONFIG;
  delete env.SSH_AUTH_SOCK;
  return env;
}

/** Runs the CLI; `exit` resolves when it exits 0 (stamped then), rejects with its stderr. */
function runCli(args: readonly string[], env: NodeJS.ProcessEnv): { exit: Promise<void> } {
  const child = spawn(process.execPath, [cli, ...args], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exit = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`syncline ${args[0]} exited ${code}: ${stderr}`)),
    );
  });
  exit.catch(() => {}); // read by the caller, possibly after a race
  return { exit };
}

/** The first line `child` prints on stdout. */
function firstLine(child: ChildProcess, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => reject(new Error(`${what}: no line in ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once("exit", (code) => reject(new Error(`${what} exited (${code})`)));
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
}

/** SIGTERM (clip and serve end cleanly on it), SIGKILL if it is still there after 5 s. */
function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.kill("SIGTERM");
  const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
  return exited.then(() => clearTimeout(kill));
}

/**
 * User + system CPU seconds of `pid` and of the children it has waited for (the xclip runs of a
 * clip), from /proc (Linux); 0 once it is gone.
 */
function cpuWithChildren(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ")":
    // utime, stime, cutime, cstime are the 12th to 15th of those, in clock ticks (USER_HZ 100).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round2 = (x: number) => Math.round(x * 100) / 100;
