import * as Automerge from "@automerge/automerge";
import { describe, expect, it } from "vitest";
import { changeCount, changesInChunk, changesInSyncMessage } from "./change-count.js";

/** A document of `count` changes. */
function docOf(count: number): Automerge.Doc<Record<string, number>> {
  let doc = Automerge.init<Record<string, number>>();
  for (let i = 0; i < count; i++) {
    doc = Automerge.change(doc, (d) => {
      d[`k${i}`] = i;
    });
  }
  return doc;
}

describe("change counts", () => {
  it("counts a change chunk as 1 and a document chunk as its whole history", () => {
    const doc = docOf(12);
    const [first] = Automerge.getAllChanges(doc);
    expect(changesInChunk(first as Uint8Array)).toBe(1);
    expect(changesInChunk(Automerge.save(doc))).toBe(12);
    expect(changeCount(doc)).toBe(12);
  });

  it("counts the changes of a sync message that sends a whole document as one entry", () => {
    const doc = docOf(45);
    // A peer that has nothing: its first answer makes ours carry the document.
    let [ours, first] = Automerge.generateSyncMessage(doc, Automerge.initSyncState());
    expect(changesInSyncMessage(first as Uint8Array)).toBe(0);
    const [theirDoc, theirState] = Automerge.receiveSyncMessage(
      Automerge.init(),
      Automerge.initSyncState(),
      first as Uint8Array,
    );
    const [, answer] = Automerge.generateSyncMessage(theirDoc, theirState);
    [, ours] = Automerge.receiveSyncMessage(doc, ours, answer as Uint8Array);
    const [, second] = Automerge.generateSyncMessage(doc, ours);
    expect(Automerge.decodeSyncMessage(second as Uint8Array).changes).toHaveLength(1);
    expect(changesInSyncMessage(second as Uint8Array)).toBe(45);
  });
});
