import { describe, expect, it } from "vitest";
import { createError } from "../../protocol/errors.js";
import type { ShareItem } from "../../protocol/share-items.js";
import type { Batch } from "./session-batches.js";
import { syncAction } from "./sync-action.js";

const item = (text: string): ShareItem => ({ type: "session", data: { id: "ses_a", title: text } });
const batchOf = (...keys: string[]): Batch => new Map(keys.map((key) => [key, item(key)]));
const tooLarge = createError("ERR_SHARE_TOO_LARGE", "share sync: the server answered 413");
const rejected = (items: Array<{ index?: number; key?: string; reason?: string }>) =>
  ({ kind: "rejected", status: 413, message: "too large", items, error: tooLarge }) as const;

describe("syncAction", () => {
  it("ok → deliver with the batch's keys, ignored items named by key from their index", () => {
    const action = syncAction(batchOf("a", "b"), {
      kind: "ok",
      seq: 7,
      accepted: 1,
      ignored: [{ index: 1, reason: "off schema" }, { index: 5 }, { key: "x" }],
      ignoredCount: 250,
    });
    expect(action).toEqual({
      kind: "deliver",
      seq: 7,
      keys: ["a", "b"],
      ignored: [{ index: 1, key: "b", reason: "off schema" }, { index: 5 }, { key: "x" }],
      ignoredCount: 250,
    });
  });

  it("retry, unauthorized and not-found carry the answer's status, message and error", () => {
    const batch = batchOf("a");
    const down = createError("ERR_SHARE_STORAGE", "down");
    expect(syncAction(batch, { kind: "retry", status: 503, message: "down", error: down })).toEqual(
      { kind: "retry", status: 503, message: "down", error: down },
    );
    const refused = createError("ERR_SHARE_SECRET", "bad secret");
    expect(
      syncAction(batch, { kind: "unauthorized", message: "bad secret", error: refused }),
    ).toEqual({ kind: "unauthorized", message: "bad secret", error: refused });
    const gone = createError("ERR_SHARE_NOT_FOUND", "gone");
    expect(syncAction(batch, { kind: "not-found", message: "gone", error: gone })).toEqual({
      kind: "not-found",
      message: "gone",
      error: gone,
    });
  });

  it("a refusal naming items by index or key drops those and keeps the rest in order", () => {
    const batch = batchOf("a", "b", "c", "d");
    const action = syncAction(batch, rejected([{ index: 1, reason: "big" }, { key: "d" }]));
    expect(action).toMatchObject({
      kind: "drop",
      status: 413,
      message: "too large",
      error: { code: "ERR_SHARE_TOO_LARGE" },
    });
    if (action.kind !== "drop") throw new Error("expected drop");
    expect(action.dropped).toEqual([
      { key: "b", item: batch.get("b"), reason: "big" },
      { key: "d", item: batch.get("d") },
    ]);
    expect([...(action.rest?.keys() ?? [])]).toEqual(["a", "c"]);
  });

  it("a refusal naming every item leaves no rest; unknown names are ignored", () => {
    const action = syncAction(batchOf("a"), rejected([{ key: "a" }, { key: "zz" }, { index: 9 }]));
    expect(action).toMatchObject({ kind: "drop", rest: undefined, dropped: [{ key: "a" }] });
  });

  it("a refused batch of one naming nothing drops that item with the answer's message", () => {
    const action = syncAction(batchOf("a"), rejected([]));
    expect(action).toMatchObject({
      kind: "drop",
      dropped: [{ key: "a", reason: "too large" }],
      rest: undefined,
    });
  });

  it("a refused batch naming nothing is halved, the larger half first", () => {
    const action = syncAction(batchOf("a", "b", "c"), rejected([{ key: "nope" }]));
    if (action.kind !== "bisect") throw new Error(`expected bisect, got ${action.kind}`);
    expect(action.halves.map((half) => [...half.keys()])).toEqual([["a", "b"], ["c"]]);
  });
});
