// The lifecycle of a document in the hub as one value, so that where its Automerge state lives
// and which task holds the entry cannot disagree (they used to be three fields: the loaded
// document, an in-worker flag and a running flag). Every change is an event decided by
// nextPhase; an event the current phase does not allow is a bug in the hub, thrown as
// ERR_UNEXPECTED before it can leave an entry half-moved.

import { createError } from "../protocol/errors.js";
import type { DocBackend } from "./automerge-backend.js";

/** Where a document in memory lives: on this thread (its WASM handle), or in a worker thread. */
export type Residence =
  | { readonly in: "thread"; readonly doc: DocBackend }
  | { readonly in: "worker" };

/**
 * The phase of one document entry. At most one task holds an entry: its queue's runner
 * (`loading`, `syncing`) or a background eviction (`evicting`); `unloaded` and `resident`
 * have none, so a message arriving then starts a runner.
 */
export type DocumentPhase =
  /** Not in memory: its peers' sync states wait encoded in their links. */
  | { readonly name: "unloaded" }
  /** Its runner holds it, not in memory: it loads it for the next round, or ends (queue empty). */
  | { readonly name: "loading" }
  /** In memory and idle: the residency may evict it. */
  | { readonly name: "resident"; readonly residence: Residence }
  /** Its runner holds it in memory: rounds (receive, persist, reply), then maybe a compaction. */
  | { readonly name: "syncing"; readonly residence: Residence }
  /**
   * An eviction holds it: compacting, then unloading. `residence` is undefined once its worker
   * took it out of memory (handed back, or died) while the task still runs.
   */
  | { readonly name: "evicting"; readonly residence: Residence | undefined };

/** What happens to an entry; nextPhase says what phase follows. */
export type PhaseEvent =
  | { readonly type: "runner-started" }
  /** The runner loaded the document here or in a worker. */
  | { readonly type: "loaded"; readonly residence: Residence }
  | { readonly type: "eviction-started" }
  /** Its Automerge state was freed, here or in its worker; whatever task holds it goes on. */
  | { readonly type: "left-memory" }
  | { readonly type: "task-ended" }
  /**
   * A document put on this thread by code driving an entry without a hub (the store's tests):
   * the hub itself always loads through a runner.
   */
  | { readonly type: "doc-installed"; readonly doc: DocBackend };

const unloaded: DocumentPhase = { name: "unloaded" };
const loading: DocumentPhase = { name: "loading" };

/** The residence a phase holds, if any. */
export function residenceOf(phase: DocumentPhase): Residence | undefined {
  return "residence" in phase ? phase.residence : undefined;
}

/** The phase after `event`, or undefined when `phase` does not allow it. */
export function nextPhase(phase: DocumentPhase, event: PhaseEvent): DocumentPhase | undefined {
  const residence = residenceOf(phase);
  switch (event.type) {
    case "runner-started":
      if (phase.name === "unloaded") return loading;
      return phase.name === "resident"
        ? { name: "syncing", residence: phase.residence }
        : undefined;
    case "loaded":
      return phase.name === "loading" ? { name: "syncing", residence: event.residence } : undefined;
    case "eviction-started":
      return phase.name === "resident"
        ? { name: "evicting", residence: phase.residence }
        : undefined;
    case "left-memory":
      if (residence === undefined) return undefined;
      if (phase.name === "resident") return unloaded;
      return phase.name === "syncing" ? loading : { name: "evicting", residence: undefined };
    case "task-ended":
      if (phase.name === "loading") return unloaded;
      if (phase.name !== "syncing" && phase.name !== "evicting") return undefined;
      return residence ? { name: "resident", residence } : unloaded;
    case "doc-installed":
      if (phase.name !== "unloaded" && !(phase.name === "resident" && residence?.in === "thread")) {
        return undefined;
      }
      return { name: "resident", residence: { in: "thread", doc: event.doc } };
  }
}

/** The phase after `event`; throws ERR_UNEXPECTED when `phase` does not allow it. */
export function advancePhase(
  documentId: string,
  phase: DocumentPhase,
  event: PhaseEvent,
): DocumentPhase {
  const next = nextPhase(phase, event);
  if (next) return next;
  throw createError(
    "ERR_UNEXPECTED",
    `automerge hub: document ${documentId} cannot take "${event.type}" while ${describePhase(phase)}`,
  );
}

/** The phase as a log line names it: `syncing (worker)`. */
export function describePhase(phase: DocumentPhase): string {
  const residence = residenceOf(phase);
  return residence ? `${phase.name} (${residence.in})` : phase.name;
}
