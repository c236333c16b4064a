// The share-fanout publisher, the same for every server: `<base url> <session id> <part bytes>`.
// Creates the share (`POST /api/share`), reports "ready" with its id, then on "go" POSTs
// `/api/share/:id/sync` with one part per sync at a fixed rate (open loop: a sync is sent when
// due whether or not earlier ones were answered), each part's content carrying the monotonic
// time it was sent (`time.sent`) so the viewers' process can measure publish → viewer latency.
// Reports "done" once every sync was answered (or the drain time ran out).

import { Agent, request } from "node:http";
import { roleChannel } from "../lib/child.js";
import { monotonicMs } from "../lib/clock.js";
import { quantile } from "../lib/stats.js";

const [baseUrl, sessionID, partBytesArg] = process.argv.slice(2) as [string, string, string];
const partBytes = Number(partBytesArg);
const messageID = "msg_bench0001";
/** Parts updated in turn: a session's parts being streamed, each rewritten with new content. */
const partCount = 100;
const parent = roleChannel();
// Keep-alive: the publisher holds a few connections like any HTTP client library would; beyond
// 64 in flight, syncs wait in the agent's queue (their send time still counts).
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const url = new URL(baseUrl);

interface Answer {
  readonly status: number;
  readonly body: string;
}

function post(path: string, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const created = await post("/api/share", JSON.stringify({ sessionID }));
if (created.status !== 201) {
  throw new Error(`share-publisher: POST /api/share answered ${created.status}: ${created.body}`);
}
const { id, secret } = JSON.parse(created.body) as { id: string; secret: string };
const syncPath = `/api/share/${id}/sync`;

/** The part's content: `partBytes` of JSON (the text is padded to it), stamped `sent`. */
function part(n: number, sent: number): Record<string, unknown> {
  return {
    id: `prt_${String(n % partCount).padStart(4, "0")}`,
    sessionID,
    messageID,
    type: "text",
    text: "",
    time: { sent: Number(sent.toFixed(3)) },
    n,
  };
}
// Padding: size a typical part (a 13-digit timestamp with 3 decimals, a 6-digit n) once.
const sample = JSON.stringify(part(123456, 1234567890.123));
const padding = "x".repeat(Math.max(0, partBytes - sample.length));

parent.on("go", (message) => {
  void run(
    Number(message.startAt),
    Number(message.measureFrom),
    Number(message.endAt),
    Number(message.rate),
    Number(message.drainMs),
  );
});
parent.send({ type: "ready", id, secret });

async function run(
  startAt: number,
  measureFrom: number,
  endAt: number,
  rate: number,
  drainMs: number,
): Promise<void> {
  const interval = 1000 / rate;
  const pending = new Set<Promise<void>>();
  const statuses: Record<string, number> = {};
  const answerMs: number[] = [];
  let sent = 0;
  let measuredSent = 0;
  let measuredOk = 0;
  let errors = 0;
  let maxLagMs = 0;
  let n = 0;
  const send = (due: number) => {
    const at = monotonicMs();
    maxLagMs = Math.max(maxLagMs, at - due);
    const content = part(n++, at);
    content.text = padding;
    const measured = at >= measureFrom;
    sent++;
    if (measured) measuredSent++;
    const body = JSON.stringify({ secret, data: [{ type: "part", data: content }] });
    const done = post(syncPath, body).then(
      (answer) => {
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (measured) {
          answerMs.push(monotonicMs() - at);
          if (answer.status === 200) measuredOk++;
        }
      },
      () => {
        errors++;
      },
    );
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };
  // Each sync is due at startAt + k × interval; a late timer sends every sync that fell due.
  let k = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = monotonicMs();
      while (startAt + k * interval <= now && startAt + k * interval < endAt) {
        send(startAt + k * interval);
        k++;
      }
      if (startAt + k * interval >= endAt) return resolve();
      setTimeout(tick, Math.max(0, Math.min(interval, startAt + k * interval - monotonicMs())));
    };
    setTimeout(tick, Math.max(0, startAt - monotonicMs()));
  });
  const drained = await Promise.race([
    Promise.all([...pending]).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), drainMs)),
  ]);
  parent.send({
    type: "done",
    sent,
    measuredSent,
    measuredOk,
    unanswered: pending.size,
    drained,
    errors,
    statuses,
    maxLagMs: Math.round(maxLagMs * 10) / 10,
    answerMs: {
      p50: round(quantile(answerMs, 0.5)),
      p99: round(quantile(answerMs, 0.99)),
      max: round(quantile(answerMs, 1)),
    },
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
