// A small pool of Automerge worker threads (automerge-worker.js). Each document lives on one
// worker while it is loaded there (placed on the worker holding the fewest); workers start on
// first use and are terminated once they hold nothing for `idleMs`, which gives their WASM memory
// back to the OS (a WASM heap never shrinks otherwise). A worker that dies takes its documents
// with it: its pending requests reject and `onLost` names the documents, whose state the hub
// then reloads from the store.

import { Worker } from "node:worker_threads";
import type { WorkerRequest, WorkerResponse } from "./worker-protocol.js";

/** Options of the pool. */
export interface WorkerPoolOptions {
  /** Worker threads at most. */
  readonly size: number;
  /** A worker holding no document this long is terminated, ms. Default 5000. */
  readonly idleMs?: number;
  /** The documents of a worker that died; their requests in flight reject as well. */
  readonly onLost: (documents: readonly string[], error: Error) => void;
  /** The worker script; the built automerge-worker.js beside this module by default. */
  readonly script?: URL;
}

/** Requests without their `id` (the pool numbers them). */
export type PoolRequest = WorkerRequest extends infer R
  ? R extends { id: number }
    ? Omit<R, "id">
    : never
  : never;

interface Slot {
  readonly worker: Worker;
  readonly documents: Set<string>;
  readonly pending: Map<number, { resolve(value: unknown): void; reject(error: Error): void }>;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  exiting: boolean;
}

/** Automerge worker threads for the hub's huge documents. */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots = new Set<Slot>();
  readonly #placed = new Map<string, Slot>();
  #nextId = 1;
  #closed = false;

  constructor(options: WorkerPoolOptions) {
    this.#options = options;
  }

  /** Workers running now. */
  get workers(): number {
    return this.#slots.size;
  }

  /**
   * Sends `request` to the worker holding its document (placing the document first when it has
   * none); `transfer` moves those buffers instead of copying them.
   */
  request<T>(request: PoolRequest, transfer: readonly ArrayBuffer[] = []): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("automerge workers: the pool is closed"));
    const slot = this.#placed.get(request.doc) ?? this.#place(request.doc);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      slot.worker.postMessage({ ...request, id }, [...transfer]);
    });
  }

  /** The document left its worker (after its "close" request); an idle worker is retired. */
  release(doc: string): void {
    const slot = this.#placed.get(doc);
    if (!slot) return;
    this.#placed.delete(doc);
    slot.documents.delete(doc);
    if (slot.documents.size === 0 && slot.pending.size === 0) this.#retireLater(slot);
  }

  /** Terminates every worker; requests still in flight reject. Call after the hub's flush. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#slots].map((slot) => this.#terminate(slot)));
  }

  #place(doc: string): Slot {
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      // A worker being retired (idle) takes nothing new: its termination is under way.
      if (slot.exiting) continue;
      if (!best || slot.documents.size < best.documents.size) best = slot;
    }
    const slot =
      best && (best.documents.size === 0 || this.#slots.size >= this.#options.size)
        ? best
        : this.#spawn();
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.documents.add(doc);
    this.#placed.set(doc, slot);
    return slot;
  }

  #spawn(): Slot {
    const script = this.#options.script ?? new URL("./automerge-worker.js", import.meta.url);
    const slot: Slot = {
      worker: new Worker(script),
      documents: new Set(),
      pending: new Map(),
      idleTimer: undefined,
      exiting: false,
    };
    slot.worker.on("message", (response: WorkerResponse) => {
      const waiter = slot.pending.get(response.id);
      slot.pending.delete(response.id);
      if ("error" in response) waiter?.reject(new Error(response.error));
      else waiter?.resolve(response.result);
      if (slot.documents.size === 0 && slot.pending.size === 0) this.#retireLater(slot);
    });
    slot.worker.on("error", (error) => this.#lost(slot, error));
    slot.worker.on("exit", (code) => {
      this.#lost(slot, new Error(`automerge workers: a worker exited with code ${code}`));
    });
    this.#slots.add(slot);
    return slot;
  }

  /** The worker is gone (crashed, or terminated by us): nothing it held survives. */
  #lost(slot: Slot, error: Error): void {
    if (!this.#slots.delete(slot)) return;
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    const failure = new Error(`automerge workers: a worker failed: ${error.message}`, {
      cause: error,
    });
    for (const waiter of slot.pending.values()) waiter.reject(failure);
    slot.pending.clear();
    const documents = [...slot.documents];
    for (const doc of documents) this.#placed.delete(doc);
    if (!slot.exiting) {
      void slot.worker.terminate();
      if (documents.length > 0) this.#options.onLost(documents, failure);
    }
  }

  #retireLater(slot: Slot): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (slot.documents.size === 0 && slot.pending.size === 0) void this.#terminate(slot);
    }, this.#options.idleMs ?? 5000);
    slot.idleTimer.unref();
  }

  async #terminate(slot: Slot): Promise<void> {
    slot.exiting = true;
    await slot.worker.terminate();
    this.#lost(slot, new Error("automerge workers: terminated"));
  }
}
