// tcp-floor: what share-fanout's load costs the machine with no WebSocket, JSON, storage or
// server logic at all — 1,000 plain loopback TCP sockets, each written `rate` times a second
// with one Buffer (every socket in a loop, on a timer), read by a second process that only
// counts bytes. The CPU of the writer (this process) and of the reader is the floor under any
// server's fan-out of that many writes on this machine: share-fanout at 200 syncs/s makes
// 200,000 writes a second if each frame is its own write, 50,000 if frames leave in batches of
// four (what `share_viewer_flush_ms` of ~20 ms gives at that rate).

import { createServer, type Socket } from "node:net";
import { startRole } from "./lib/child.js";
import { cpuOf } from "./lib/cpu.js";
import { median } from "./lib/stats.js";

const reader = new URL("./roles/tcp-floor-reader.js", import.meta.url).pathname;

/** One load: writes per second per socket, bytes per write. */
interface Load {
  readonly rate: number;
  readonly bytes: number;
}

/** Runs each load `repetitions` times (alternating) for `seconds`; CPU cores used, medians. */
export async function tcpFloor(sockets: number, seconds: number, repetitions: number) {
  const loads: Load[] = [
    { rate: 200, bytes: 300 },
    { rate: 50, bytes: 1200 },
    { rate: 50, bytes: 300 },
  ];
  const results = loads.map(() => [] as { writer: number; reader: number }[]);
  for (let r = 0; r < repetitions; r++) {
    for (const [i, load] of loads.entries()) {
      const run = await runOne(sockets, seconds, load);
      process.stderr.write(
        `tcp-floor: ${load.rate}/s × ${load.bytes} B × ${sockets} sockets: writer ${run.writer} cores, reader ${run.reader} cores\n`,
      );
      results[i]?.push(run);
    }
  }
  return {
    name: "tcp-floor",
    sockets,
    seconds,
    repetitions,
    loads: loads.map((load, i) => {
      const runs = results[i] ?? [];
      const writer = median(runs.map((run) => run.writer));
      const reader = median(runs.map((run) => run.reader));
      const writesPerSecond = load.rate * sockets;
      return {
        ...load,
        writesPerSecond,
        cores: { writer, reader },
        microsecondsPerWrite: {
          writer: round((writer / writesPerSecond) * 1e6),
          reader: round((reader / writesPerSecond) * 1e6),
        },
        runs,
      };
    }),
  };
}

async function runOne(sockets: number, seconds: number, load: Load) {
  const accepted: Socket[] = [];
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    accepted.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const child = startRole(reader, [String(port), String(sockets)]);
  try {
    await Promise.race([child.next("ready"), child.exited]);
    while (accepted.length < sockets) await new Promise((resolve) => setTimeout(resolve, 10));
    const payload = Buffer.alloc(load.bytes, 0x78);
    const pid = child.child.pid as number;
    const ownCpu = () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1e6;
    };
    const timer = setInterval(() => {
      for (const socket of accepted) socket.write(payload);
    }, 1000 / load.rate);
    // A second to settle, then the measured window.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [w0, r0, t0] = [ownCpu(), cpuOf(pid), performance.now()];
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const [w1, r1, t1] = [ownCpu(), cpuOf(pid), performance.now()];
    clearInterval(timer);
    const elapsed = (t1 - t0) / 1000;
    return { writer: round((w1 - w0) / elapsed), reader: round((r1 - r0) / elapsed) };
  } finally {
    for (const socket of accepted) socket.destroy();
    server.close();
    await child.stop();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
