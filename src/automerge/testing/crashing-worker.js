// @ts-check
// The real Automerge worker, except that it exits (code 1, as a crash would) when a round
// carries a message from the peer "crasher", before doing any of it: lets tests crash a worker
// at a chosen point.

import { parentPort } from "node:worker_threads";

const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
const on = port.on.bind(port);
// The worker's own listener is wrapped (not added beside it), so the check runs first and no
// message reaches the port before that listener exists.
port.on = (/** @type {any} */ event, /** @type {any} */ listener) =>
  on(event, (/** @type {any} */ request) => {
    if (event === "message" && request.op === "round") {
      if (request.jobs.some((/** @type {any} */ job) => job.peer === "crasher")) process.exit(1);
    }
    listener(request);
  });
await import("../automerge-worker.js");
