// @ts-check
// An Automerge worker thread: holds the WASM state of the huge documents the hub gives it
// (document + one sync state per peer) and does their load/receive/generate/save, so the main
// thread's event loop (sockets, pings, /healthz, the store) never waits for them.
//
// Why plain JavaScript: the pool starts this file with `new Worker(new URL("./automerge-worker.js",
// import.meta.url))`. Built, that is dist/automerge/automerge-worker.js (tsc copies it with
// allowJs). Under vitest the pool runs from src/*.ts, and a worker thread is a bare Node isolate
// without vitest's TypeScript transform: a .ts entry (or a .js one importing .ts siblings) cannot
// load there without a loader hook. A .js entry that imports only .js files and packages resolves
// the same way in both, with no test-only machinery in production code. Types come from
// worker-protocol.ts through JSDoc and are checked by tsc (checkJs via @ts-check).

import { parentPort } from "node:worker_threads";
import { loadWasmModule, serverActor } from "./automerge-wasm.js";

/** @typedef {import("./worker-protocol.js").WorkerRequest} WorkerRequest */
/** @typedef {import("./worker-protocol.js").RoundResult} RoundResult */
/** @typedef {{ doc: any, states: Map<string, any>, savedHeads: string[] }} Held */

const wasm = loadWasmModule();
/** @type {Map<string, Held>} */
const held = new Map();

if (!parentPort) throw new Error("automerge worker: must run as a worker thread");
const port = parentPort;

port.on("message", (/** @type {WorkerRequest} */ request) => {
  /** @type {ArrayBuffer[]} */
  const transfer = [];
  let result;
  try {
    result = handle(request, transfer);
  } catch (error) {
    port.postMessage({
      id: request.id,
      error: String(/** @type {Error} */ (error)?.message ?? error),
    });
    return;
  }
  port.postMessage({ id: request.id, result }, transfer);
});

/**
 * @param {WorkerRequest} request
 * @param {ArrayBuffer[]} transfer byte arrays made here, moved (not copied) to the main thread
 */
function handle(request, transfer) {
  if (request.op === "open") {
    const doc = request.data
      ? wasm.load(request.data, { actor: serverActor })
      : wasm.create({ actor: serverActor });
    const states = new Map();
    for (const [peer, encoded] of request.peers) {
      states.set(peer, encoded ? wasm.decodeSyncState(encoded) : wasm.initSyncState());
    }
    held.get(request.doc)?.doc.free();
    held.set(request.doc, { doc, states, savedHeads: doc.getHeads() });
    return doc.getHeads();
  }
  const entry = held.get(request.doc);
  if (!entry) {
    if (request.op === "drop" || request.op === "close") return null;
    throw new Error(`automerge worker: document ${request.doc} is not loaded`);
  }
  switch (request.op) {
    case "round":
      return round(entry, request, transfer);
    case "compact":
      return keep(entry.doc.save(), transfer);
    case "drop":
      entry.states.get(request.peer)?.free();
      entry.states.delete(request.peer);
      return null;
    case "close": {
      /** @type {[string, Uint8Array][]} */
      const saved = [];
      for (const [peer, state] of entry.states) {
        if (request.keep) saved.push([peer, keep(wasm.encodeSyncState(state), transfer)]);
        state.free();
      }
      entry.doc.free();
      held.delete(request.doc);
      return saved;
    }
  }
}

/**
 * Receives every job, then computes what to store and the replies. The heads are taken as
 * saved at once: the main thread acknowledges nothing before its write is durable, and drops
 * the document from this worker (op "close") when the write fails.
 * @param {Held} entry
 * @param {Extract<WorkerRequest, { op: "round" }>} request
 * @param {ArrayBuffer[]} transfer
 * @returns {RoundResult}
 */
function round(entry, request, transfer) {
  const { doc, states } = entry;
  // Joining peers have no link on the main thread, so a state held here under their id is a
  // leftover of an earlier socket: they start afresh.
  for (const peer of request.join) {
    states.get(peer)?.free();
    states.set(peer, wasm.initSyncState());
  }
  /** @type {(string | null)[]} */
  const statuses = [];
  /** @type {Set<string>} */
  const touched = new Set();
  /** Indexes of requests that found no content: answered after the other jobs. */
  /** @type {number[]} */
  const deferred = [];
  for (const [index, job] of request.jobs.entries()) {
    if (job.reset) {
      states.get(job.peer)?.free();
      states.delete(job.peer);
    }
    statuses.push(null);
    if (job.type === "request" && doc.getHeads().length === 0) deferred.push(index);
    else statuses[index] = apply(entry, job, touched);
  }
  // A request that came before the content in this same round gets the content, as it would
  // on the main thread (where the peer told "unavailable" is admitted once the heads move).
  for (const index of deferred) {
    const job = /** @type {import("./worker-protocol.js").WorkerJob} */ (request.jobs[index]);
    statuses[index] = doc.getHeads().length === 0 ? "unavailable" : apply(entry, job, touched);
  }
  const heads = doc.getHeads();
  const moved = !sameHeads(heads, entry.savedHeads);
  let write = null;
  if (moved) {
    write = keep(request.snapshot ? doc.save() : doc.saveSince(entry.savedHeads), transfer);
    entry.savedHeads = heads;
  }
  /** @type {[string, Uint8Array[]][]} */
  const replies = [];
  for (const peer of moved ? states.keys() : touched) {
    const state = states.get(peer);
    /** @type {Uint8Array[]} */
    const messages = [];
    for (let count = 0; state && count < request.maxReplies; count++) {
      const message = doc.generateSyncMessage(state);
      if (!message) break;
      messages.push(keep(message, transfer));
    }
    if (messages.length > 0) replies.push([peer, messages]);
  }
  return { statuses, write, heads, replies };
}

/**
 * Receives one job's message: null when applied, else the error's text. A state made for this
 * message alone is dropped when it fails (the main thread keeps no link for that peer then).
 * @param {Held} entry
 * @param {import("./worker-protocol.js").WorkerJob} job
 * @param {Set<string>} touched
 * @returns {string | null}
 */
function apply(entry, job, touched) {
  let state = entry.states.get(job.peer);
  const fresh = !state;
  if (!state) {
    state = wasm.initSyncState();
    entry.states.set(job.peer, state);
  }
  try {
    entry.doc.receiveSyncMessage(state, job.data);
  } catch (error) {
    if (fresh) {
      state.free();
      entry.states.delete(job.peer);
    }
    return String(/** @type {Error} */ (error)?.message ?? error);
  }
  touched.add(job.peer);
  return null;
}

/**
 * Marks a WASM output array for transfer (it owns its whole buffer).
 * @param {Uint8Array} bytes
 * @param {ArrayBuffer[]} transfer
 */
function keep(bytes, transfer) {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    transfer.push(/** @type {ArrayBuffer} */ (bytes.buffer));
  }
  return bytes;
}

/** @param {readonly string[]} a @param {readonly string[]} b */
function sameHeads(a, b) {
  return a.length === b.length && a.every((hash, index) => hash === b[index]);
}
