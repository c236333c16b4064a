import { describe, expect, it } from "vitest";
import {
  formatCost,
  formatDuration,
  formatTime,
  formatTokens,
  formatValue,
  isoTime,
  truncateText,
} from "./format.js";
import { diffLineKind } from "./render-diff.js";
import { shareIdFromPath } from "./share-path.js";

describe("viewer formatting", () => {
  it("formats cost, tokens, times and durations", () => {
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(0.0042)).toBe("$0.0042");
    expect(formatCost(1.5)).toBe("$1.50");
    expect(formatTokens(1234)).toBe("1,234");
    expect(formatTokens(12_345)).toBe("12.3k");
    expect(formatTokens(40_000)).toBe("40k");
    expect(formatTokens(4_560_000)).toBe("4.6M");
    const at = Date.UTC(2026, 10, 30, 2, 27, 5);
    expect(formatTime(at, { locale: "en-US", timeZone: "America/New_York" })).toBe(
      "Nov 29, 2026, 09:27:05 PM EST",
    );
    expect(formatTime(at, { locale: "en-GB", timeZone: "Asia/Tokyo" })).toBe(
      "30 Nov 2026, 11:27:05 GMT+9",
    );
    expect(isoTime(at)).toBe("2026-11-30T02:27:05.000Z");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_340)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4 min 05 s");
  });

  it("shows strings as they are and anything else as JSON", () => {
    expect(formatValue("<b>x</b>")).toBe("<b>x</b>");
    expect(formatValue({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(formatValue(undefined)).toBe("");
    expect(formatValue(10n)).toBe("10");
  });

  it("cuts long text by characters or lines, and leaves short text alone", () => {
    expect(truncateText("short")).toBeUndefined();
    expect(truncateText("x".repeat(50), { chars: 10, lines: 5 })).toBe("x".repeat(10));
    expect(truncateText("a\nb\nc\nd", { chars: 100, lines: 2 })).toBe("a\nb");
    expect(truncateText("a\nb", { chars: 100, lines: 2 })).toBeUndefined();
  });

  it("classifies unified diff lines", () => {
    expect(
      ["+++ b/x", "--- a/x", "@@ -1 +1 @@", "+y", "-x", " z", "diff --git a b"].map(diffLineKind),
    ).toEqual(["meta", "meta", "hunk", "add", "del", "context", "meta"]);
  });

  it("reads the share id from /s/<id> and /share/<id> only", () => {
    expect(shareIdFromPath("/s/abcd1234")).toBe("abcd1234");
    expect(shareIdFromPath("/share/abcd1234")).toBe("abcd1234");
    expect(shareIdFromPath("/share/abcd1234/")).toBe("abcd1234");
    expect(shareIdFromPath("/share/")).toBeUndefined();
    expect(shareIdFromPath("/share/abcd1234/extra")).toBeUndefined();
    expect(shareIdFromPath("/shares/abcd1234")).toBeUndefined();
    expect(shareIdFromPath("/api/share/abcd1234")).toBeUndefined();
    expect(shareIdFromPath("/s/abcd1234/")).toBe("abcd1234");
    expect(shareIdFromPath("/s/")).toBeUndefined();
    expect(shareIdFromPath("/s/short")).toBeUndefined();
    expect(shareIdFromPath("/s/abcd1234/extra")).toBeUndefined();
    expect(shareIdFromPath("/s/%E0%A4%A")).toBeUndefined();
    expect(shareIdFromPath("/x/abcd1234")).toBeUndefined();
  });
});
