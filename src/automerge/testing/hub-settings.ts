// Settings for document hubs built by tests: the server's defaults, with one worker thread so a
// test behaves alike on every machine. Tests change the one they exercise.

import type { AutomergeSettings } from "../document-hub-options.js";

/** Hub settings for tests, with `overrides`. */
export function hubSettings(overrides: Partial<AutomergeSettings> = {}): AutomergeSettings {
  return {
    automergeMemoryBudget: 64 * 1024 * 1024,
    automergeIdleEvictMs: 30_000,
    automergeMaxDocumentBytes: 256 * 1024 * 1024,
    automergeWorkerThreshold: 256 * 1024,
    automergeWorkerThreads: 1,
    automergeMaxEphemeralBytes: 64 * 1024,
    ...overrides,
  };
}
