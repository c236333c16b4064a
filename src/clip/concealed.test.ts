import { describe, expect, it } from "vitest";
import { concealedMarkers, isConcealed } from "./concealed.js";

describe("isConcealed", () => {
  it("finds every marker, without regard to case or surrounding blanks", () => {
    for (const { type } of concealedMarkers) {
      expect(isConcealed(["text/plain", type])).toBe(true);
      expect(isConcealed([` ${type.toUpperCase()}\r`])).toBe(true);
    }
  });

  it("ignores ordinary types and Windows' history formats set to allow", () => {
    expect(isConcealed([])).toBe(false);
    expect(isConcealed(["UTF8_STRING", "image/png", "public.utf8-plain-text"])).toBe(false);
    expect(isConcealed(["CanIncludeInClipboardHistory", "CanIncludeInClipboardHistory=1"])).toBe(
      false,
    );
    expect(isConcealed(["x-kde-passwordManagerHintish"])).toBe(false);
  });
});
