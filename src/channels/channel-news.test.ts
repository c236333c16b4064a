import { encode } from "cbor-x";
import { describe, expect, it } from "vitest";
import { decodeNotice, encodeNotice, type Notice } from "./channel-news.js";

const copy = "0123456789abcdef0123456789abcdef";

describe("channel notices between nodes", () => {
  it("each kind survives encoding", () => {
    const notices: Notice[] = [
      { t: "o", u: "-", c: "clip", k: copy, n: 5, b: "spool" },
      { t: "o", u: "alice", c: "clip", n: 5, b: "store" },
      { t: "p", u: "-", c: "clip", k: copy, w: 1024 },
      { t: "e", u: "-", c: "clip", k: copy, s: new Uint8Array(32).fill(7) },
      { t: "x", u: "-", c: "clip", k: copy },
    ];
    for (const notice of notices) {
      const decoded = decodeNotice(encodeNotice(notice));
      expect(decoded).toMatchObject({
        ...notice,
        ...("s" in notice ? { s: expect.anything() } : {}),
      });
      if (notice.t === "e" && decoded?.t === "e") expect([...decoded.s]).toEqual([...notice.s]);
    }
  });

  it("refuses what is not one, never throwing", () => {
    const refused = [
      new Uint8Array([0xff, 0x00]),
      encode("text"),
      encode({ t: "p", u: "-", c: "clip", k: "../etc", w: 1 }), // not a copy name made here
      encode({ t: "p", u: "-", c: "clip", k: copy, w: -1 }),
      encode({ t: "e", u: "-", c: "clip", k: copy, s: new Uint8Array(3) }),
      encode({ t: "o", u: "", c: "clip", n: 1, b: "store" }),
      encode({ t: "o", u: "-", c: "clip", n: 1, b: "disk" }),
      encode({ t: "z", u: "-", c: "clip" }),
    ];
    for (const bytes of refused) expect(decodeNotice(bytes)).toBeUndefined();
  });
});
