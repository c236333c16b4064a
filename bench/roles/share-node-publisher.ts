// The share-nodes publisher: `<http base,http base,…> <session id> <part bytes>`. Like
// share-publisher.ts (one part per sync, open loop at a fixed rate, each part stamped with the
// monotonic time it was sent), but over several nodes of one deployment: the share is created on
// the first node, and sync k goes to node k mod n — what a publisher behind a round-robin load
// balancer does. Each part also carries `node` (the index of the node its sync went to), so the
// viewers can tell a delivery from their own node apart from one that crossed the bus.
// Reports "done" once every sync was answered (or the drain time ran out), per node.

import { Agent, request } from "node:http";
import { roleChannel } from "../lib/child.js";
import { monotonicMs } from "../lib/clock.js";
import { quantile } from "../lib/stats.js";

const [basesArg, sessionID, partBytesArg] = process.argv.slice(2) as [string, string, string];
const bases = basesArg.split(",").map((base) => new URL(base));
const partBytes = Number(partBytesArg);
const messageID = "msg_bench0001";
/** Parts updated in turn (as share-publisher.ts): a session's parts, each rewritten. */
const partCount = 100;
const parent = roleChannel();
// One keep-alive agent per node, as a client behind a load balancer holds connections to it.
const agents = bases.map(() => new Agent({ keepAlive: true, maxSockets: 64 }));

interface Answer {
  readonly status: number;
  readonly body: string;
}

function post(node: number, path: string, body: string): Promise<Answer> {
  const url = bases[node] as URL;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent: agents[node],
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

const created = await post(0, "/api/share", JSON.stringify({ sessionID }));
if (created.status !== 201) {
  throw new Error(
    `share-node-publisher: POST /api/share answered ${created.status}: ${created.body}`,
  );
}
const { id, secret } = JSON.parse(created.body) as { id: string; secret: string };
const syncPath = `/api/share/${id}/sync`;

/**
 * The part's content, `partBytes` of JSON once padded. `node`, `time.sent` and `n` come last,
 * in this order, so the viewers can read them from the frame's tail without parsing it all.
 */
function part(n: number, node: number, sent: number): Record<string, unknown> {
  return {
    id: `prt_${String(n % partCount).padStart(4, "0")}`,
    sessionID,
    messageID,
    type: "text",
    text: "",
    node,
    time: { sent: Number(sent.toFixed(3)) },
    n,
  };
}
const sample = JSON.stringify(part(123456, 0, 1234567890.123));
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
  const nodes = bases.map(() => ({
    measuredSent: 0,
    measuredOk: 0,
    errors: 0,
    statuses: {} as Record<string, number>,
    answerMs: [] as number[],
  }));
  let sent = 0;
  let maxLagMs = 0;
  let n = 0;
  const send = (due: number) => {
    const at = monotonicMs();
    maxLagMs = Math.max(maxLagMs, at - due);
    const node = n % bases.length;
    const tally = nodes[node] as (typeof nodes)[number];
    const content = part(n++, node, at);
    content.text = padding;
    const measured = at >= measureFrom;
    sent++;
    if (measured) tally.measuredSent++;
    const body = JSON.stringify({ secret, data: [{ type: "part", data: content }] });
    const done = post(node, syncPath, body).then(
      (answer) => {
        tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1;
        if (measured) {
          tally.answerMs.push(monotonicMs() - at);
          if (answer.status === 200) tally.measuredOk++;
        }
      },
      () => {
        tally.errors++;
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
  const total = (key: "measuredSent" | "measuredOk" | "errors") =>
    nodes.reduce((sum, node) => sum + node[key], 0);
  parent.send({
    type: "done",
    sent,
    measuredSent: total("measuredSent"),
    measuredOk: total("measuredOk"),
    errors: total("errors"),
    unanswered: pending.size,
    drained,
    maxLagMs: round(maxLagMs),
    answerMs: summarize(nodes.flatMap((node) => node.answerMs)),
    nodes: nodes.map(({ answerMs, ...node }) => ({ ...node, answerMs: summarize(answerMs) })),
  });
}

function summarize(ms: readonly number[]) {
  return {
    p50: round(quantile(ms, 0.5)),
    p99: round(quantile(ms, 0.99)),
    max: round(quantile(ms, 1)),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
