import { describe, expect, it } from "vitest";
import type { ShareId } from "../protocol/share-items.js";
import { createLiveShare, isIdle, type LiveShare, moveShare } from "./live-share.js";
import type { ShareSettings } from "./share-hub-options.js";

const settings: ShareSettings = {
  shareMaxItemBytes: 1024,
  shareMaxBytes: 4096,
  shareViewerMaxBufferedBytes: 1024,
  shareViewerFlushMs: 0,
  shareCatchupFrames: 10,
  shareCatchupBytes: 4096,
  shareIdleEvictMs: 1000,
  shareMemoryBudget: 2 ** 40, // no budget to speak of
  shareTotalMaxBytes: 0,
  shareExpireAfterMs: 0,
  shareTombstoneMs: 0,
  shareTombstoneMax: 0,
};

const loaded = (): LiveShare =>
  createLiveShare(
    "abcdefgh" as ShareId,
    {
      meta: { sessionID: "session-abcdefgh", secretHash: "00", createdAt: 0, epoch: "e" },
      seq: 0,
      items: new Map(),
    },
    settings,
    {},
  );

describe("live share phases", () => {
  it("starts live and idle", () => {
    const share = loaded();
    expect(share.phase).toEqual({ name: "live" });
    expect(isIdle(share)).toBe(true);
  });

  it("moves through a delete, a failed delete, a failed write and an eviction", () => {
    const deleted = loaded();
    moveShare(deleted, { name: "deleting" });
    expect(isIdle(deleted)).toBe(false);
    moveShare(deleted, { name: "deleted" });
    expect(deleted.phase).toEqual({ name: "deleted" });

    const retried = loaded();
    moveShare(retried, { name: "deleting" });
    moveShare(retried, { name: "failed" });
    moveShare(retried, { name: "deleting" });

    const evicted = loaded();
    moveShare(evicted, { name: "evicted" });
    moveShare(evicted, { name: "failed" });
  });

  it("throws ERR_UNEXPECTED on an illegal move and keeps the phase", () => {
    const share = loaded();
    expect(() => moveShare(share, { name: "deleted" })).toThrow(
      expect.objectContaining({ code: "ERR_UNEXPECTED" }),
    );
    expect(share.phase).toEqual({ name: "live" });
    moveShare(share, { name: "deleting" });
    moveShare(share, { name: "deleted" });
    expect(() => moveShare(share, { name: "live" })).toThrow(/from deleted to live/);
    const evicted = loaded();
    moveShare(evicted, { name: "evicted" });
    expect(() => moveShare(evicted, { name: "deleting" })).toThrow(/from evicted to deleting/);
  });
});
