// The slice of Automerge's WASM API the server needs, used without the JS document layer.
//
// Why: `@automerge/automerge`'s JS API converts every sync state between WASM and JS objects on
// each receiveSyncMessage/generateSyncMessage call and materializes the document as JS objects
// (patches) after each receive. A server never reads document contents, so that was most of its
// CPU time (profiled: ~60% of the sync work). The WASM handles below are what the JS API wraps
// (`getBackend(doc)`); we load the very module file the package's Node entry point loads, so
// there is one WASM instance. The version is pinned (3.5.0); a mismatch fails at startup.

import * as A from "@automerge/automerge";
import { loadWasmModule, serverActor } from "./automerge-wasm.js";

/** One document in WASM memory. Call `free()` when done: the GC does not see its size. */
export interface DocBackend {
  getHeads(): string[];
  save(): Uint8Array;
  saveSince(heads: string[]): Uint8Array;
  /** The change with this hash, or null when the document does not have it. */
  getChangeByHash(hash: string): Uint8Array | null;
  receiveSyncMessage(state: PeerSyncState, message: Uint8Array): void;
  generateSyncMessage(state: PeerSyncState): Uint8Array | null;
  free(): void;
}

/** One peer's sync state in WASM memory; `free()` when dropped. */
export interface PeerSyncState {
  readonly sharedHeads: string[];
  clone(): PeerSyncState;
  free(): void;
}

interface WasmModule {
  create(options?: { actor?: string }): DocBackend;
  load(data: Uint8Array, options?: object): DocBackend;
  initSyncState(): PeerSyncState;
  encodeSyncState(state: PeerSyncState): Uint8Array;
  decodeSyncState(data: Uint8Array): PeerSyncState;
  decodeSyncMessage(message: Uint8Array): { changes: Uint8Array[]; heads: string[] };
}

const wasm = checkedWasmModule();

function checkedWasmModule(): WasmModule {
  const module = loadWasmModule() as WasmModule & { Automerge: new () => unknown };
  if (!(A.getBackend(A.init()) instanceof module.Automerge)) {
    // Another module instance: still correct (we never mix handles), only more memory.
    process.emitWarning("automerge: the WASM module is loaded twice");
  }
  return module;
}

/** A new empty document. */
export const createDoc = (): DocBackend => wasm.create({ actor: serverActor });
/** Loads a document from `A.save()` output followed by any number of `saveSince` chunks. */
export const loadDoc = (data: Uint8Array): DocBackend => wasm.load(data, { actor: serverActor });
/** A fresh sync state for a peer we know nothing about. */
export const initSyncState = (): PeerSyncState => wasm.initSyncState();
/** The durable part of a sync state (its shared heads). */
export const encodeSyncState = (state: PeerSyncState): Uint8Array => wasm.encodeSyncState(state);
export const decodeSyncState = (data: Uint8Array): PeerSyncState => wasm.decodeSyncState(data);
/** Parses a sync message without a document; throws on malformed input. */
export const decodeSyncMessage = (message: Uint8Array) => wasm.decodeSyncMessage(message);
