// The share-fanout viewers: `ws <url> <count>` opens `count` `ws` WebSockets to `url` (syncline's
// /share_poll or the raw broadcast server; perMessageDeflate off); `socketio <url> <count>` opens
// `count` socket.io-client sockets (websocket transport only, one connection each) that the
// server joins to one room. All in this one process. Every update frame `{key, content, seq}`
// is counted (its `seq` and `time.sent` read from the bytes, see numberBefore); the full state's
// frames (no `seq`) are ignored. Latency is the machine's monotonic clock on receipt minus `content.time.sent`.
//
// On "go" {measureFrom, measureTo, capacity}: frames received between the two times count as
// the window's deliveries; frames *sent* between them are the measured ones, whose latency is
// recorded whenever they arrive. On "drain" {expected, timeoutMs}: waits until `expected`
// measured frames arrived (or the timeout), then reports.

import { io, type Socket } from "socket.io-client";
import { WebSocket } from "ws";
import { roleChannel } from "../lib/child.js";
import { monotonicMs } from "../lib/clock.js";

const [mode, url, countArg] = process.argv.slice(2) as [string, string, string];
const count = Number(countArg);
const parent = roleChannel();
/** Connections opened at once while connecting. */
const connectConcurrency = 50;

interface Frame {
  readonly key?: unknown;
  readonly seq?: unknown;
  readonly content?: { time?: { sent?: number } };
}

let measureFrom = Number.POSITIVE_INFINITY;
let measureTo = Number.POSITIVE_INFINITY;
let latencies = new Float64Array(0);
let recorded = 0;
let measuredReceived = 0;
let windowReceived = 0;
let totalReceived = 0;
let outOfOrder = 0;
let closedDuringRun = 0;
let running = false;
const closeCodes: Record<string, number> = {};
let onProgress: (() => void) | undefined;

/** Update frame `seq`, stamped `sent`, arrived at viewer `viewer`. */
function receive(seq: number, sent: number, viewer: number): void {
  const now = monotonicMs();
  totalReceived++;
  if (seq <= (lastSeq[viewer] as number)) outOfOrder++;
  lastSeq[viewer] = seq;
  if (now >= measureFrom && now < measureTo) windowReceived++;
  if (sent >= measureFrom && sent < measureTo) {
    measuredReceived++;
    if (recorded < latencies.length) latencies[recorded++] = now - sent;
    onProgress?.();
  }
}

const lastSeq = new Int32Array(count).fill(-1);
const updatePrefix = Buffer.from('{"key":');

/**
 * The number right after the last `"<name>":` in `frame` at or before `end` (NaN if absent),
 * found by scanning back from `end`. The ws viewers read `seq` and `time.sent` from the frame's
 * bytes instead of JSON.parse-ing 200,000 frames a second: the viewers' process shares the 2
 * cores with the server under test, and parsing was its largest cost (~40% of its CPU in a
 * profile), then Buffer#indexOf's native calls (~15%). Both numbers sit in the frame's last
 * ~60 bytes (`…"time":{"sent":S},"n":N},"seq":Q}`), so the scan reads a few dozen bytes.
 */
function numberBefore(frame: Buffer, name: string, end: number): { value: number; at: number } {
  // Looks for `"name":` ending right before a digit.
  for (let i = end; i > name.length + 2; i--) {
    if (frame[i] !== 58 /* : */ || frame[i - 1] !== 34 /* " */) continue;
    let matches = true;
    for (let j = 0; j < name.length; j++) {
      if (frame[i - 1 - name.length + j] !== name.charCodeAt(j)) {
        matches = false;
        break;
      }
    }
    if (!matches || frame[i - 2 - name.length] !== 34) continue;
    // Digits accumulate as an integer and the decimal point becomes one division at the end
    // (a power per fraction digit was 2.5% of this process's CPU in a perf profile).
    let digits = 0;
    let divisor = 1;
    let fraction = false;
    for (let k = i + 1; k < frame.length; k++) {
      const c = frame[k] as number;
      if (c === 46 /* . */ && !fraction) fraction = true;
      else if (c >= 48 && c <= 57) {
        digits = digits * 10 + (c - 48);
        if (fraction) divisor *= 10;
      } else break;
    }
    return { value: digits / divisor, at: i - 2 - name.length };
  }
  return { value: Number.NaN, at: -1 };
}

function connectWs(viewer: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    socket.on("message", (data: Buffer) => {
      if (data.compare(updatePrefix, 0, updatePrefix.length, 0, updatePrefix.length) !== 0) return;
      const seq = numberBefore(data, "seq", data.length - 1);
      // A key of the full state ({key, content}, no seq) is not an update: ignored.
      if (Number.isNaN(seq.value)) return;
      receive(seq.value, numberBefore(data, "sent", seq.at).value, viewer);
    });
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("close", (code) => {
      if (running) closedDuringRun++;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    });
  });
}

const sockets: Socket[] = [];
function connectSocketIo(viewer: number): Promise<void> {
  return new Promise((resolve, reject) => {
    // forceNew: one connection per viewer (socket.io multiplexes sockets to one URL otherwise).
    const socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      // Off (the server does not offer it either); the option's type only names the object form.
      perMessageDeflate: false as unknown as { threshold: number },
    });
    sockets.push(socket);
    // socket.io-client has already parsed the packet (its own cost, part of what it is).
    socket.on("update", (frame: Frame) => {
      receive(Number(frame.seq), Number(frame.content?.time?.sent), viewer);
    });
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
    socket.on("disconnect", (reason) => {
      if (running) closedDuringRun++;
      closeCodes[reason] = (closeCodes[reason] ?? 0) + 1;
    });
  });
}

const connect = mode === "socketio" ? connectSocketIo : connectWs;
const started = monotonicMs();
let nextViewer = 0;
await Promise.all(
  Array.from({ length: connectConcurrency }, async () => {
    while (nextViewer < count) await connect(nextViewer++);
  }),
);
// socket.io: the server joins a socket to the room on connection, before any emit reaches it;
// a short pause lets every join settle before the parent starts publishing.
await new Promise((resolve) => setTimeout(resolve, 200));
parent.send({ type: "ready", connected: count, connectMs: Math.round(monotonicMs() - started) });

parent.on("go", (message) => {
  measureFrom = Number(message.measureFrom);
  measureTo = Number(message.measureTo);
  latencies = new Float64Array(Number(message.capacity));
  running = true;
});

parent.on("drain", (message) => {
  const expected = Number(message.expected);
  const finish = () => {
    onProgress = undefined;
    clearTimeout(timer);
    running = false;
    report(expected);
  };
  const timer = setTimeout(finish, Number(message.timeoutMs));
  onProgress = () => {
    if (measuredReceived >= expected) finish();
  };
  onProgress();
});

function report(expected: number): void {
  // Before sorting: the median latency of the first and second half of the measured frames in
  // the order they arrived, to show a latency that grows through the window (a server falling
  // behind) apart from a steady one.
  const firstHalf = medianOf(latencies.slice(0, recorded >> 1));
  const secondHalf = medianOf(latencies.slice(recorded >> 1, recorded));
  const sorted = latencies.subarray(0, recorded).sort();
  // Quantiles over every expected frame: one still missing when the drain time ran out counts
  // as later than any that arrived (Infinity, null in the JSON), so a server that fell behind
  // cannot look fast by not delivering its slowest frames.
  const total = Math.max(expected, recorded);
  const at = (q: number) => {
    const index = Math.min(total - 1, Math.max(0, Math.ceil(q * total) - 1));
    return index < recorded ? (sorted[index] as number) : Number.POSITIVE_INFINITY;
  };
  let sum = 0;
  for (let i = 0; i < recorded; i++) sum += sorted[i] as number;
  parent.send({
    type: "report",
    windowReceived,
    measuredReceived,
    expected,
    missing: Math.max(0, expected - measuredReceived),
    totalReceived,
    outOfOrder,
    closedDuringRun,
    closeCodes,
    latencyMs: {
      p50: round(at(0.5)),
      p90: round(at(0.9)),
      p99: round(at(0.99)),
      max: round(at(1)),
      mean: round(recorded === 0 ? Number.NaN : sum / recorded),
      p50FirstHalf: round(firstHalf),
      p50SecondHalf: round(secondHalf),
    },
  });
}

function medianOf(values: Float64Array): number {
  if (values.length === 0) return Number.NaN;
  return values.sort()[(values.length - 1) >> 1] as number;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
