import { describe, expect, it } from "vitest";
import { wireUrlOf } from "./wire-address.js";

describe("wireUrlOf", () => {
  it("maps ws, wss and unix addresses to the /wire endpoint", () => {
    expect(wireUrlOf("ws://127.0.0.1:3030")).toBe("ws://127.0.0.1:3030/wire");
    expect(wireUrlOf("wss://example.org/")).toBe("wss://example.org/wire");
    expect(wireUrlOf("wss://example.org/base")).toBe("wss://example.org/base/wire");
    expect(wireUrlOf("unix:/run/syncline.sock")).toBe("ws+unix:/run/syncline.sock:/wire");
    expect(wireUrlOf("http://127.0.0.1:3030")).toBe("ws://127.0.0.1:3030/wire");
    expect(wireUrlOf("https://example.org")).toBe("wss://example.org/wire");
    expect(wireUrlOf("unix:relative.sock")).toBe(`ws+unix:${process.cwd()}/relative.sock:/wire`);
  });

  it("refuses other schemes and malformed addresses, naming them", () => {
    for (const bad of ["ftp://x", "example.org:3030", "unix:", "unix:/a:b", ""]) {
      expect(() => wireUrlOf(bad), bad).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_SERVER_URL" }),
      );
    }
  });
});
