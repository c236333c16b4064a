// @ts-check
// Loads Automerge's WASM module (the file the package's Node ESM entry loads), for the main
// thread (automerge-backend.ts) and the worker threads (automerge-worker.js) alike.
//
// Plain JavaScript because the worker entry imports it: see automerge-worker.js for why.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * The WASM module of the pinned @automerge/automerge (3.5.0); throws a clear error when it is
 * not where that version keeps it.
 * @returns {any} typed by automerge-backend.ts
 */
export function loadWasmModule() {
  const require = createRequire(import.meta.url);
  // The package's CommonJS entry lives in <root>/dist/cjs/; the Node ESM entry loads this file.
  const root = join(dirname(require.resolve("@automerge/automerge")), "..", "..");
  const path = join(root, "dist", "mjs", "wasm_bindgen_output", "nodejs", "automerge_wasm.cjs");
  try {
    return require(path);
  } catch (error) {
    throw new Error(
      `automerge: cannot load the WASM module at ${path}; @automerge/automerge must be the pinned 3.5.0`,
      { cause: error },
    );
  }
}

/**
 * The server never makes changes, so its documents need no random actor id (generating one per
 * document showed up in profiles).
 */
export const serverActor = "00";
