import { describe, expect, it } from "vitest";
import { printable, terminalSafeJson } from "./terminal-text.js";

describe("printable", () => {
  it("writes escape sequences, bells, carriage returns and C1 controls as visible escapes", () => {
    expect(printable("\x1b]0;owned\x07a\x1b[2Jb\r\nc\x9b31m\x7f")).toBe(
      "\\x1b]0;owned\\x07a\\x1b[2Jb\\x0d\\x0ac\\x9b31m\\x7f",
    );
  });

  it("writes bidi overrides and line separators as escapes, and leaves other text alone", () => {
    expect(printable("photo\u202egnp.exe")).toBe("photo\\u202egnp.exe");
    expect(printable("a\u2028b")).toBe("a\\u2028b");
    expect(printable("résumé 文件.txt ok")).toBe("résumé 文件.txt ok");
  });

  it("keeps line feeds only when asked", () => {
    expect(printable("one\ntwo\r", { keepNewlines: true })).toBe("one\ntwo\\x0d");
    expect(printable("one\ntwo")).toBe("one\\x0atwo");
  });
});

describe("terminalSafeJson", () => {
  it("escapes what JSON leaves raw and a terminal acts on, and parses back to the same value", () => {
    const value = { name: "a\u009b31mb\u202ec\x1b[2Jd\u2028e" };
    const text = terminalSafeJson(value);
    expect(text).toBe('{"name":"a\\u009b31mb\\u202ec\\u001b[2Jd\\u2028e"}');
    expect(JSON.parse(text)).toEqual(value);
  });
});
