// The share-catchup viewers: `<viewer url> <count>` (`ws://…/share_poll?id=<id>`), `count` `ws`
// clients in this one process (perMessageDeflate off), each asking for frames of version 2.
//
// On "connect" {mode, since?, epoch?, target, keys, timeoutMs}: opens every viewer at once (one
// synchronous loop of `new WebSocket`), `mode` "since" with `&since=<since>&epoch=<epoch>`,
// "full" without, and reports "caught-up" once each viewer is caught up: the time from its
// `new WebSocket` call to that point, per viewer, as quantiles. On "close": closes every viewer
// and reports "closed" once each socket has closed.
//
// When a viewer is caught up (docs/protocol.md, "Viewer WebSocket"):
// - "since": the server sends exactly the updates after `since`, in seq order, and nothing else —
//   no `state` frame ends a catch-up, even with v=2 (that frame ends a full state only). So a
//   viewer is caught up at the update whose seq is `target`, the seq of the publisher's last
//   sync answer: the share's current last seq.
// - "full": the key frames of the full state (no `seq`), then v=2's `state` frame
//   `{type: "state", seq, epoch}`. The client applies the state only at that frame, so the
//   viewer is caught up there; its `seq` must be `target` and it must follow exactly `keys`
//   key frames.
//
// Nothing is missed silently: every update must carry the seq after the viewer's last one (the
// first after `since`, or after the full state's seq); a gap, a full state where a catch-up was
// asked for, a key count or seq that is not the expected one, a refused upgrade, a close nobody
// asked for or a viewer not caught up in `timeoutMs` ends this process with the reason on stderr.

import { WebSocket } from "ws";
import { roleChannel } from "../lib/child.js";
import { monotonicMs } from "../lib/clock.js";
import { quantile } from "../lib/stats.js";

const [url, countArg] = process.argv.slice(2) as [string, string];
const count = Number(countArg);
const parent = roleChannel();

type Mode = "since" | "full";

interface Phase {
  readonly mode: Mode;
  readonly since: number;
  /** The share's epoch the viewers last saw (undefined on the first connect: any is taken). */
  readonly epoch: string | undefined;
  /** The share's last seq: a viewer is caught up once it has it. */
  readonly target: number;
  /** Keys a full state must hold. */
  readonly keys: number;
}

let phase: Phase | undefined;
let sockets: WebSocket[] = [];
let closing = false;
let closed = 0;
let caughtUp = 0;
let frames = 0;
let bytes = 0;
let seenEpoch: string | undefined;
let deadline: NodeJS.Timeout | undefined;
const startedAt = new Float64Array(count);
const openAt = new Float64Array(count);
const caughtUpAt = new Float64Array(count);
/** The seq each viewer's next update must carry (NaN: no update may come yet). */
const nextSeq = new Float64Array(count);
/** Key frames of the full state received so far, per viewer. */
const keyFrames = new Int32Array(count);

const statePrefix = Buffer.from('{"type":"state"');
const keyPrefix = Buffer.from('{"key":');

/** Ends the process: the benchmark would be wrong to go on. */
function fail(reason: string): never {
  process.stderr.write(`share-catchup-viewers: ${reason}\n`);
  process.exit(1);
}

/**
 * The `seq` of an update frame, read from its end (`…,"seq":<digits>}`), or NaN for a frame
 * without one. Updates are encoded as `{"key":…,"content":…,"seq":N}` (src/protocol/
 * share-frames.ts), so the number is the frame's last field; a content ending in a field named
 * `seq` is followed by the frame's own `}` and does not match. Reading the tail instead of
 * JSON.parse-ing each frame keeps this process's cost per frame small: a full re-dump is 10,000
 * frames per viewer.
 */
function seqAtEnd(frame: Buffer): number {
  let i = frame.length - 1;
  if (frame[i] !== 125 /* } */) return Number.NaN;
  let value = 0;
  let scale = 1;
  for (i--; i >= 0; i--) {
    const c = frame[i] as number;
    if (c < 48 || c > 57) break;
    value += (c - 48) * scale;
    scale *= 10;
  }
  if (scale === 1) return Number.NaN;
  // `,"seq":` before the digits.
  const tail = ',"seq":';
  for (let j = 0; j < tail.length; j++) {
    if (frame[i - j] !== tail.charCodeAt(tail.length - 1 - j)) return Number.NaN;
  }
  return value;
}

function startsWith(frame: Buffer, prefix: Buffer): boolean {
  return (
    frame.length >= prefix.length && frame.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
  );
}

function onFrame(viewer: number, frame: Buffer): void {
  const current = phase as Phase;
  frames++;
  bytes += frame.length;
  const seq = seqAtEnd(frame);
  if (!Number.isNaN(seq)) {
    const expected = nextSeq[viewer] as number;
    if (seq !== expected) {
      fail(
        Number.isNaN(expected)
          ? `viewer ${viewer}: update ${seq} before the full state ended (${current.mode})`
          : `viewer ${viewer}: update ${seq} where ${expected} was due — a gap (${current.mode})`,
      );
    }
    nextSeq[viewer] = seq + 1;
    if (seq === current.target) caught(viewer);
    return;
  }
  if (startsWith(frame, statePrefix)) {
    const state = JSON.parse(frame.toString()) as { seq: number; epoch?: string };
    if (current.mode === "since") {
      fail(
        `viewer ${viewer}: a full state (seq ${state.seq}) where a catch-up from ${current.since} was asked for — the server no longer held those writes`,
      );
    }
    if (keyFrames[viewer] !== current.keys || state.seq !== current.target) {
      fail(
        `viewer ${viewer}: a full state of ${keyFrames[viewer]} keys at seq ${state.seq}; expected ${current.keys} keys at seq ${current.target}`,
      );
    }
    if (current.epoch !== undefined && state.epoch !== current.epoch) {
      fail(`viewer ${viewer}: epoch ${state.epoch}, expected ${current.epoch}`);
    }
    seenEpoch ??= state.epoch;
    if (state.epoch !== seenEpoch) fail(`viewers saw epochs ${seenEpoch} and ${state.epoch}`);
    nextSeq[viewer] = state.seq + 1;
    caught(viewer);
    return;
  }
  if (!startsWith(frame, keyPrefix)) fail(`viewer ${viewer}: unexpected frame ${frame.toString()}`);
  // A key of a full state.
  if (current.mode === "since") {
    fail(
      `viewer ${viewer}: a full state's key where a catch-up from ${current.since} was asked for`,
    );
  }
  if (caughtUpAt[viewer] !== 0) fail(`viewer ${viewer}: a key frame without seq after its state`);
  keyFrames[viewer] = (keyFrames[viewer] as number) + 1;
}

function caught(viewer: number): void {
  if (caughtUpAt[viewer] !== 0) return;
  caughtUpAt[viewer] = monotonicMs();
  if (++caughtUp === count) report();
}

function open(viewer: number, query: string): WebSocket {
  startedAt[viewer] = monotonicMs();
  const socket = new WebSocket(`${url}${query}`, { perMessageDeflate: false });
  socket.on("message", (data: Buffer) => onFrame(viewer, data));
  socket.once("open", () => {
    openAt[viewer] = monotonicMs();
  });
  // A refused upgrade (429 over the per-address limit, 404, 503) is an error here.
  socket.once("error", (error) => fail(`viewer ${viewer}: ${error.message}`));
  socket.once("close", (code, reason) => {
    if (!closing) fail(`viewer ${viewer} closed by the server: ${code} ${reason.toString()}`);
    if (++closed === count) parent.send({ type: "closed" });
  });
  return socket;
}

parent.on("connect", (message) => {
  if (sockets.length > 0) fail("connect while viewers are still open");
  const mode = message.mode as Mode;
  const since = Number(message.since);
  const epoch = message.epoch === undefined ? undefined : String(message.epoch);
  phase = { mode, since, epoch, target: Number(message.target), keys: Number(message.keys) };
  closing = false;
  caughtUp = 0;
  frames = 0;
  bytes = 0;
  caughtUpAt.fill(0);
  openAt.fill(0);
  keyFrames.fill(0);
  nextSeq.fill(mode === "since" ? since + 1 : Number.NaN);
  const epochQuery = epoch === undefined ? "" : `&epoch=${epoch}`;
  const query = mode === "since" ? `&v=2&since=${since}${epochQuery}` : "&v=2";
  deadline = setTimeout(
    () => fail(`${count - caughtUp} of ${count} viewers not caught up in ${message.timeoutMs} ms`),
    Number(message.timeoutMs),
  );
  // All at once: every connect is started before any answer is read.
  sockets = Array.from({ length: count }, (_, viewer) => open(viewer, query));
});

parent.on("close", () => {
  closing = true;
  closed = 0;
  for (const socket of sockets) socket.close(1000);
  sockets = [];
});

function report(): void {
  clearTimeout(deadline);
  const caughtMs: number[] = [];
  const openMs: number[] = [];
  const afterOpenMs: number[] = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (let i = 0; i < count; i++) {
    const start = startedAt[i] as number;
    const done = caughtUpAt[i] as number;
    const opened = openAt[i] as number;
    caughtMs.push(done - start);
    openMs.push(opened - start);
    afterOpenMs.push(done - opened);
    first = Math.min(first, start);
    last = Math.max(last, done);
  }
  const quantiles = (values: number[]) => ({
    p50: round(quantile(values, 0.5)),
    p99: round(quantile(values, 0.99)),
    max: round(quantile(values, 1)),
  });
  parent.send({
    type: "caught-up",
    mode: phase?.mode,
    epoch: seenEpoch,
    caughtUpMs: quantiles(caughtMs),
    totalMs: round(last - first),
    // The parts of the time above: connect call → WebSocket open, and open → caught up.
    openMs: quantiles(openMs),
    afterOpenMs: quantiles(afterOpenMs),
    frames,
    mib: Math.round((bytes / 1024 / 1024) * 100) / 100,
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
