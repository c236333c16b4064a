// The messages between the hub's worker pool and an Automerge worker thread
// (automerge-worker.js). Types only: the worker is plain JavaScript and imports them in JSDoc.

/** One sync message for a document held by the worker. */
export interface WorkerJob {
  readonly peer: string;
  /** True for a new socket of this peer: its previous sync state is dropped first. */
  readonly reset: boolean;
  readonly type: "sync" | "request";
  readonly data: Uint8Array;
}

/** What the pool asks a worker; `id` pairs a request with its response. */
export type WorkerRequest =
  | {
      readonly op: "open";
      readonly id: number;
      readonly doc: string;
      /** The stored snapshot and chunks, concatenated; null for a new document. */
      readonly data: Uint8Array | null;
      /** Saved sync states of the document's peers (see unloadEntry). */
      readonly peers: readonly (readonly [string, Uint8Array | null])[];
    }
  | {
      readonly op: "round";
      readonly id: number;
      readonly doc: string;
      readonly jobs: readonly WorkerJob[];
      /** Peers that start syncing the document now: a fresh sync state each, if none is held. */
      readonly join: readonly string[];
      /** True when nothing is stored yet: the write is a snapshot (`save()`), not a chunk. */
      readonly snapshot: boolean;
      readonly maxReplies: number;
    }
  | { readonly op: "compact"; readonly id: number; readonly doc: string }
  | { readonly op: "drop"; readonly id: number; readonly doc: string; readonly peer: string }
  | { readonly op: "close"; readonly id: number; readonly doc: string; readonly keep: boolean };

/** The result of a round: what to make durable, then what to send. */
export interface RoundResult {
  /** Per job: null when applied, "unavailable", or the error text of a bad sync message. */
  readonly statuses: readonly (string | null)[];
  /** The bytes to store (a snapshot or a chunk, see `snapshot`); null when heads did not move. */
  readonly write: Uint8Array | null;
  readonly heads: string[];
  /** Replies per peer: every peer when the heads moved, else the senders. */
  readonly replies: readonly (readonly [string, Uint8Array[]])[];
}

/** A worker's answer: `result` depends on the op (open: heads; compact: snapshot bytes; close: saved sync states). */
export type WorkerResponse =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string };
