import { describe, expect, it } from "vitest";
import type { DocBackend } from "./automerge-backend.js";
import { createEntry } from "./document-entry.js";
import {
  advancePhase,
  type DocumentPhase,
  nextPhase,
  type PhaseEvent,
  type Residence,
} from "./document-phase.js";

const doc = { free() {} } as unknown as DocBackend;
const thread: Residence = { in: "thread", doc };
const worker: Residence = { in: "worker" };

const walk = (events: PhaseEvent[]): DocumentPhase =>
  events.reduce<DocumentPhase>((phase, event) => advancePhase("doc", phase, event), {
    name: "unloaded",
  });

describe("document phases", () => {
  it("follows a document through load, rounds, eviction and a reload", () => {
    expect(walk([{ type: "runner-started" }])).toEqual({ name: "loading" });
    expect(walk([{ type: "runner-started" }, { type: "loaded", residence: thread }])).toEqual({
      name: "syncing",
      residence: thread,
    });
    const resident = walk([
      { type: "runner-started" },
      { type: "loaded", residence: worker },
      { type: "task-ended" },
    ]);
    expect(resident).toEqual({ name: "resident", residence: worker });
    const evicting = advancePhase("doc", resident, { type: "eviction-started" });
    const handedBack = advancePhase("doc", evicting, { type: "left-memory" });
    expect(handedBack).toEqual({ name: "evicting", residence: undefined });
    expect(advancePhase("doc", handedBack, { type: "task-ended" })).toEqual({ name: "unloaded" });
  });

  it("keeps the task when the document leaves memory under it", () => {
    const syncing: DocumentPhase = { name: "syncing", residence: worker };
    expect(nextPhase(syncing, { type: "left-memory" })).toEqual({ name: "loading" });
    const resident: DocumentPhase = { name: "resident", residence: thread };
    expect(nextPhase(resident, { type: "left-memory" })).toEqual({ name: "unloaded" });
    const evicting: DocumentPhase = { name: "evicting", residence: thread };
    expect(nextPhase(evicting, { type: "task-ended" })).toEqual(resident);
  });

  it("refuses a second task, a load outside a runner and an unload of nothing", () => {
    const syncing: DocumentPhase = { name: "syncing", residence: thread };
    expect(nextPhase(syncing, { type: "runner-started" })).toBeUndefined();
    expect(nextPhase(syncing, { type: "eviction-started" })).toBeUndefined();
    expect(nextPhase({ name: "unloaded" }, { type: "loaded", residence: thread })).toBeUndefined();
    expect(nextPhase({ name: "loading" }, { type: "left-memory" })).toBeUndefined();
    expect(nextPhase({ name: "unloaded" }, { type: "task-ended" })).toBeUndefined();
    const inWorker: DocumentPhase = { name: "resident", residence: worker };
    expect(nextPhase(inWorker, { type: "doc-installed", doc })).toBeUndefined();
  });

  it("throws ERR_UNEXPECTED on an illegal transition and leaves the entry as it was", () => {
    const entry = createEntry("doc-1");
    expect(() => entry.advance({ type: "eviction-started" })).toThrow(
      expect.objectContaining({ code: "ERR_UNEXPECTED" }),
    );
    expect(() => entry.advance({ type: "task-ended" })).toThrow(/doc-1.*"task-ended".*unloaded/);
    expect(entry.phase).toEqual({ name: "unloaded" });
    entry.advance({ type: "runner-started" });
    expect(entry.busy).toBe(true);
    expect(() => entry.advance({ type: "runner-started" })).toThrow(/while loading/);
  });

  it("derives the document and the task from the phase", () => {
    const entry = createEntry("doc-2");
    expect(entry.doc).toBeUndefined();
    entry.doc = doc;
    expect(entry.phase).toEqual({ name: "resident", residence: thread });
    expect(entry.doc).toBe(doc);
    expect(entry.busy).toBe(false);
    entry.advance({ type: "eviction-started" });
    expect(entry.busy).toBe(true);
    expect(entry.doc).toBe(doc);
  });
});
