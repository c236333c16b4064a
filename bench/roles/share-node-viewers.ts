// The share-nodes viewers: `<ws url,ws url,…> <count>` opens `count` `ws` WebSockets (no
// compression), viewer i to url i mod n (a load balancer spreading them over the nodes), all in
// this one process. Every update frame `{key, content, seq}` of share-node-publisher.ts's parts
// is counted; full-state frames (no seq) are ignored. Latency is the machine's monotonic clock on
// receipt minus `content.time.sent`, kept apart by whether the sync went to this viewer's own
// node (`content.node`) or to another one and reached it through the bus.
//
// On "go" {measureFrom, measureTo, capacity}: frames received between the two times count as the
// window's deliveries; frames *sent* between them are the measured ones, whose latency is recorded
// whenever they arrive. On "drain" {sentPerNode, timeoutMs}: waits until every measured frame
// arrived at every viewer (or the timeout), then reports quantiles over every frame expected, a
// missing one counting as later than any (Infinity, null over IPC), as share-viewers.ts does.

import { WebSocket } from "ws";
import { roleChannel } from "../lib/child.js";
import { monotonicMs } from "../lib/clock.js";

const [urlsArg, countArg] = process.argv.slice(2) as [string, string];
const urls = urlsArg.split(",");
const count = Number(countArg);
const parent = roleChannel();
const connectConcurrency = 50;

/** Latencies of one kind of delivery. */
interface Kind {
  latencies: Float64Array;
  recorded: number;
}
const same: Kind = { latencies: new Float64Array(0), recorded: 0 };
const cross: Kind = { latencies: new Float64Array(0), recorded: 0 };
let measureFrom = Number.POSITIVE_INFINITY;
let measureTo = Number.POSITIVE_INFINITY;
let measuredReceived = 0;
let windowReceived = 0;
let totalReceived = 0;
let outOfOrder = 0;
let closedDuringRun = 0;
let unreadable = 0;
let running = false;
const closeCodes: Record<string, number> = {};
const lastSeq = new Float64Array(count).fill(-1);
let onProgress: (() => void) | undefined;

/** Viewers connected to each node. */
const viewersOn = urls.map((_, node) => Math.floor((count - node - 1) / urls.length) + 1);

/**
 * The part's tail as share-node-publisher.ts writes it and the server frames it: reading these
 * four numbers from the last bytes costs the viewers' process (which shares the 2 cores with the
 * servers) far less than parsing every frame; a frame that does not match is parsed whole.
 */
const tail = /"node":(\d+),"time":\{"sent":([\d.]+)\},"n":\d+\},"seq":(\d+)\}$/;

function receive(data: Buffer, viewer: number): void {
  let node: number;
  let sent: number;
  let seq: number;
  const match = tail.exec(data.toString("latin1", Math.max(0, data.length - 96)));
  if (match) {
    node = Number(match[1]);
    sent = Number(match[2]);
    seq = Number(match[3]);
  } else {
    let frame: { seq?: unknown; content?: { node?: unknown; time?: { sent?: unknown } } };
    try {
      frame = JSON.parse(data.toString("utf8"));
    } catch {
      unreadable++;
      return;
    }
    // A key of the full state ({key, content}, no seq) is not an update.
    if (typeof frame.seq !== "number") return;
    seq = frame.seq;
    node = Number(frame.content?.node);
    sent = Number(frame.content?.time?.sent);
  }
  const now = monotonicMs();
  totalReceived++;
  if (seq <= (lastSeq[viewer] as number)) outOfOrder++;
  lastSeq[viewer] = seq;
  if (now >= measureFrom && now < measureTo) windowReceived++;
  if (sent >= measureFrom && sent < measureTo) {
    measuredReceived++;
    const kind = node === viewer % urls.length ? same : cross;
    if (kind.recorded < kind.latencies.length) kind.latencies[kind.recorded++] = now - sent;
    onProgress?.();
  }
}

function connect(viewer: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(urls[viewer % urls.length] as string, {
      perMessageDeflate: false,
    });
    socket.on("message", (data: Buffer) => receive(data, viewer));
    socket.once("open", () => resolve());
    socket.once("error", reject);
    socket.once("close", (code) => {
      if (running) closedDuringRun++;
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    });
  });
}

const started = monotonicMs();
let nextViewer = 0;
await Promise.all(
  Array.from({ length: connectConcurrency }, async () => {
    while (nextViewer < count) await connect(nextViewer++);
  }),
);
parent.send({ type: "ready", connected: count, connectMs: Math.round(monotonicMs() - started) });

parent.on("go", (message) => {
  measureFrom = Number(message.measureFrom);
  measureTo = Number(message.measureTo);
  // Either kind may get every frame (one node: all are the same node's).
  same.latencies = new Float64Array(Number(message.capacity));
  cross.latencies = new Float64Array(Number(message.capacity));
  running = true;
});

parent.on("drain", (message) => {
  const sentPerNode = message.sentPerNode as number[];
  // A sync to node j reaches its viewersOn[j] viewers directly and every other viewer by bus.
  const sameExpected = sentPerNode.reduce((sum, sent, j) => sum + sent * (viewersOn[j] ?? 0), 0);
  const total = sentPerNode.reduce((sum, sent) => sum + sent, 0) * count;
  const finish = () => {
    onProgress = undefined;
    clearTimeout(timer);
    running = false;
    report(sameExpected, total - sameExpected);
  };
  const timer = setTimeout(finish, Number(message.timeoutMs));
  onProgress = () => {
    if (measuredReceived >= total) finish();
  };
  onProgress();
});

function report(sameExpected: number, crossExpected: number): void {
  const all: Kind = {
    latencies: new Float64Array(same.recorded + cross.recorded),
    recorded: same.recorded + cross.recorded,
  };
  all.latencies.set(same.latencies.subarray(0, same.recorded));
  all.latencies.set(cross.latencies.subarray(0, cross.recorded), same.recorded);
  parent.send({
    type: "report",
    windowReceived,
    measuredReceived,
    expected: sameExpected + crossExpected,
    missing: Math.max(0, sameExpected + crossExpected - measuredReceived),
    totalReceived,
    outOfOrder,
    unreadable,
    closedDuringRun,
    closeCodes,
    viewersOn,
    latencyMs: quantiles(all, sameExpected + crossExpected),
    sameNodeLatencyMs: quantiles(same, sameExpected),
    crossNodeLatencyMs: crossExpected === 0 ? undefined : quantiles(cross, crossExpected),
  });
}

/** p50/p90/p99/max over `expected` frames, those never recorded counting as Infinity. */
function quantiles(kind: Kind, expected: number) {
  const sorted = kind.latencies.subarray(0, kind.recorded).sort();
  const total = Math.max(expected, kind.recorded);
  const at = (q: number) => {
    const index = Math.min(total - 1, Math.max(0, Math.ceil(q * total) - 1));
    return index < kind.recorded ? (sorted[index] as number) : Number.POSITIVE_INFINITY;
  };
  let sum = 0;
  for (let i = 0; i < kind.recorded; i++) sum += sorted[i] as number;
  return {
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(at(1)),
    mean: round(kind.recorded === 0 ? Number.NaN : sum / kind.recorded),
    count: kind.recorded,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
