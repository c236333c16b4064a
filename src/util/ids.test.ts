import bs58check from "bs58check";
import { describe, expect, it } from "vitest";
import {
  automergeUrlPrefix,
  type DocumentId,
  documentIdFromBytes,
  documentIdToBytes,
  generateDocumentId,
  generatePeerId,
  hexToUrlHeads,
  isValidAutomergeUrl,
  isValidDocumentId,
  parseAutomergeUrl,
  parseDocumentId,
  parseDocumentRef,
  stringifyAutomergeUrl,
  urlHeadsToHex,
} from "./ids.js";

// From automerge-repo's own AutomergeUrl tests: an id real Repo clients produce and accept.
const repoDocumentId = "4NMNnkMhL8jXrdJ9jamS58PAVdXu";
const hexHashA = "a".repeat(64);
const hexHashB = "0123456789abcdef".repeat(4);
const headA = bs58check.encode(Buffer.from(hexHashA, "hex"));
const headB = bs58check.encode(Buffer.from(hexHashB, "hex"));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  throw new Error("expected an error");
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

// Changes one character to another base58 character, so only the checksum can catch it.
function flipChar(text: string, index: number): string {
  const replacement = text[index] === "2" ? "3" : "2";
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe("document ids", () => {
  it("generates valid, distinct UUIDv4-shaped ids", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const id = generateDocumentId();
      expect(isValidDocumentId(id)).toBe(true);
      expect(id.length).toBeLessThanOrEqual(28);
      const bytes = documentIdToBytes(id);
      expect(bytes).toHaveLength(16);
      expect((bytes[6] as number) >> 4).toBe(4);
      expect((bytes[8] as number) >> 6).toBe(0b10);
      ids.add(id);
    }
    expect(ids.size).toBe(500);
  });

  it("checks an id seen before as strictly as a new one (the memo holds only valid ids)", () => {
    const ids = Array.from({ length: 25_000 }, () => generateDocumentId());
    // More than the memo keeps: the first ones are checked afresh on the second pass.
    for (const pass of [1, 2]) {
      for (const id of ids) expect(isValidDocumentId(id), `pass ${pass}`).toBe(true);
    }
    const id = ids[0] as string;
    const last = id.at(-1) === "2" ? "3" : "2";
    expect(isValidDocumentId(`${id.slice(0, -1)}${last}`)).toBe(false);
    expect(isValidDocumentId(`${id}x`)).toBe(false);
    expect(isValidDocumentId(id)).toBe(true);
  });

  it("accepts automerge-repo's ids", () => {
    expect(isValidDocumentId(repoDocumentId)).toBe(true);
    expect(parseDocumentId(repoDocumentId)).toBe(repoDocumentId);
  });

  it("round-trips bytes, including the extremes of the 16-byte range", () => {
    for (const bytes of [
      new Uint8Array(16),
      new Uint8Array(16).fill(0xff),
      Uint8Array.from({ length: 16 }, (_, i) => i),
    ]) {
      const id = documentIdFromBytes(bytes);
      expect(isValidDocumentId(id)).toBe(true);
      expect(documentIdToBytes(id)).toEqual(bytes);
    }
    const id = generateDocumentId();
    expect(documentIdFromBytes(documentIdToBytes(id))).toBe(id);
  });

  it("rejects a wrong checksum", () => {
    const id = generateDocumentId();
    for (const index of [0, 5, id.length - 1]) {
      expect(isValidDocumentId(flipChar(id, index))).toBe(false);
    }
    expect(codeOf(() => parseDocumentId(flipChar(id, 3)))).toBe("ERR_INVALID_DOCUMENT_ID");
  });

  it("rejects valid bs58check of the wrong length", () => {
    expect(isValidDocumentId(bs58check.encode(new Uint8Array(15).fill(7)))).toBe(false);
    expect(isValidDocumentId(bs58check.encode(new Uint8Array(17).fill(7)))).toBe(false);
    expect(isValidDocumentId(bs58check.encode(new Uint8Array(32).fill(7)))).toBe(false);
    expect(isValidDocumentId(bs58check.encode(new Uint8Array(0)))).toBe(false);
  });

  it("rejects non-base58 characters, plain words, empty and non-strings", () => {
    const id = generateDocumentId();
    for (const bad of [
      `${id.slice(0, 4)}0${id.slice(5)}`,
      `${id.slice(0, 4)}O${id.slice(5)}`,
      `${id.slice(0, 4)}l${id.slice(5)}`,
      ` ${id}`,
      `${id}\n`,
      "bookmarks",
      "",
      "a".repeat(100_000),
    ]) {
      expect(isValidDocumentId(bad)).toBe(false);
    }
    expect(isValidDocumentId(undefined)).toBe(false);
    expect(isValidDocumentId(42)).toBe(false);
  });

  it("throws ERR_INVALID_DOCUMENT_ID naming the bad value", () => {
    expect(codeOf(() => parseDocumentId("bookmarks"))).toBe("ERR_INVALID_DOCUMENT_ID");
    expect(messageOf(() => parseDocumentId("bookmarks"))).toBe(
      'document id "bookmarks" is not valid: expected bs58check of 16 bytes',
    );
    expect(codeOf(() => parseDocumentId(""))).toBe("ERR_INVALID_DOCUMENT_ID");
    expect(codeOf(() => documentIdToBytes("nope" as DocumentId))).toBe("ERR_INVALID_DOCUMENT_ID");
    expect(codeOf(() => documentIdFromBytes(new Uint8Array(15)))).toBe("ERR_INVALID_DOCUMENT_ID");
    expect(messageOf(() => documentIdFromBytes(new Uint8Array(15)))).toContain("got 15 bytes");
  });

  it("keeps error messages short and escaped for hostile input", () => {
    const message = messageOf(() => parseDocumentId(`evil\n${"x".repeat(10_000)}`));
    expect(message).not.toContain("\n");
    expect(message.length).toBeLessThan(200);
  });
});

describe("automerge urls", () => {
  it("round-trips a url without heads", () => {
    const documentId = generateDocumentId();
    const url = stringifyAutomergeUrl({ documentId });
    expect(url).toBe(`automerge:${documentId}`);
    expect(parseAutomergeUrl(url)).toEqual({ documentId });
    expect(isValidAutomergeUrl(url)).toBe(true);
  });

  it("round-trips a url with heads, sorting them", () => {
    const documentId = parseDocumentId(repoDocumentId);
    const url = stringifyAutomergeUrl({ documentId, heads: [headB, headA].sort().reverse() });
    expect(url).toBe(`automerge:${repoDocumentId}#${[headA, headB].sort().join("|")}`);
    expect(parseAutomergeUrl(url)).toEqual({ documentId, heads: [headA, headB].sort() });
  });

  it("parses a single head and an empty heads section", () => {
    const documentId = generateDocumentId();
    expect(parseAutomergeUrl(`automerge:${documentId}#${headA}`).heads).toEqual([headA]);
    expect(parseAutomergeUrl(`automerge:${documentId}#`)).toEqual({ documentId, heads: [] });
    expect(stringifyAutomergeUrl({ documentId, heads: [] })).toBe(`automerge:${documentId}#`);
  });

  it("rejects bad heads with ERR_INVALID_AUTOMERGE_URL naming the input", () => {
    const documentId = generateDocumentId();
    const badHeads = [
      flipChar(headA, 10),
      bs58check.encode(new Uint8Array(16)),
      "not-a-head",
      `${headA}|`,
      `${headA}#${headB}`,
    ];
    for (const heads of badHeads) {
      const url = `automerge:${documentId}#${heads}`;
      expect(isValidAutomergeUrl(url)).toBe(false);
      expect(codeOf(() => parseAutomergeUrl(url))).toBe("ERR_INVALID_AUTOMERGE_URL");
    }
    expect(messageOf(() => parseAutomergeUrl(`automerge:${documentId}#zzz`))).toBe(
      `automerge url "automerge:${documentId}#zzz" is not valid: ` +
        'head "zzz" is not bs58check of 32 bytes',
    );
    expect(codeOf(() => stringifyAutomergeUrl({ documentId, heads: ["zzz"] }))).toBe(
      "ERR_INVALID_AUTOMERGE_URL",
    );
  });

  it("rejects other prefixes, bad ids and sub-document paths", () => {
    const documentId = generateDocumentId();
    for (const url of [
      documentId,
      `Automerge:${documentId}`,
      `yjs:${documentId}`,
      "automerge:",
      "automerge:bookmarks",
      `automerge:${flipChar(documentId, 2)}`,
      `automerge:${documentId}/path/to/map`,
      ` automerge:${documentId}`,
    ]) {
      expect(isValidAutomergeUrl(url)).toBe(false);
      expect(codeOf(() => parseAutomergeUrl(url))).toBe("ERR_INVALID_AUTOMERGE_URL");
    }
    expect(messageOf(() => parseAutomergeUrl("automerge:bookmarks"))).toBe(
      'automerge url "automerge:bookmarks" is not valid: ' +
        'document id "bookmarks" is not bs58check of 16 bytes',
    );
    expect(isValidAutomergeUrl(undefined)).toBe(false);
  });

  it("refuses to stringify an invalid document id", () => {
    expect(codeOf(() => stringifyAutomergeUrl({ documentId: "x" as DocumentId }))).toBe(
      "ERR_INVALID_DOCUMENT_ID",
    );
  });

  it("converts heads between url form and Automerge hex hashes", () => {
    expect(urlHeadsToHex([headA, headB])).toEqual([hexHashA, hexHashB]);
    expect(hexToUrlHeads([hexHashA, hexHashB.toUpperCase()])).toEqual([headA, headB]);
    // The longest and shortest encodings still pass the length guard.
    for (const hash of ["f".repeat(64), "0".repeat(64)]) {
      expect(urlHeadsToHex(hexToUrlHeads([hash]))).toEqual([hash]);
    }
    expect(codeOf(() => urlHeadsToHex(["zzz"]))).toBe("ERR_INVALID_AUTOMERGE_URL");
    expect(codeOf(() => hexToUrlHeads(["abc"]))).toBe("ERR_INVALID_AUTOMERGE_URL");
    expect(codeOf(() => hexToUrlHeads(["g".repeat(64)]))).toBe("ERR_INVALID_AUTOMERGE_URL");
  });
});

describe("parseDocumentRef", () => {
  it("accepts a bare id, a url, and trims surrounding whitespace", () => {
    const documentId = generateDocumentId();
    expect(parseDocumentRef(documentId)).toEqual({ documentId });
    expect(parseDocumentRef(`automerge:${documentId}`)).toEqual({ documentId });
    expect(parseDocumentRef(`  automerge:${documentId}#${headA}\n`)).toEqual({
      documentId,
      heads: [headA],
    });
    expect(parseDocumentRef(`${documentId}\n`)).toEqual({ documentId });
  });

  it("reports a bad url as a url error and anything else as a document id error", () => {
    expect(codeOf(() => parseDocumentRef("automerge:bookmarks"))).toBe("ERR_INVALID_AUTOMERGE_URL");
    expect(codeOf(() => parseDocumentRef("bookmarks"))).toBe("ERR_INVALID_DOCUMENT_ID");
    expect(codeOf(() => parseDocumentRef(""))).toBe("ERR_INVALID_DOCUMENT_ID");
    expect(messageOf(() => parseDocumentRef("bookmarks"))).toBe(
      'document id "bookmarks" is not valid: ' +
        `expected bs58check of 16 bytes or an ${automergeUrlPrefix} url`,
    );
  });
});

describe("generatePeerId", () => {
  it("makes distinct ids with the default prefix and 12 base58 characters", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = generatePeerId();
      expect(id).toMatch(/^syncline-[1-9A-HJ-NP-Za-km-z]{12}$/);
      ids.add(id);
    }
    expect(ids.size).toBe(1000);
  });

  it("uses a custom prefix and rejects unsafe ones", () => {
    expect(generatePeerId("cli.sync_1")).toMatch(/^cli\.sync_1-[1-9A-HJ-NP-Za-km-z]{12}$/);
    for (const bad of ["", "has space", "new\nline", "x".repeat(65), "ünïcode"]) {
      expect(() => generatePeerId(bad)).toThrow(RangeError);
    }
  });
});
