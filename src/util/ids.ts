// Identifiers: Automerge document ids and automerge: URLs in the exact format automerge-repo uses
// (bs58check of 16 bytes; heads as bs58check of 32-byte hashes), plus ephemeral peer ids.

import bs58check from "bs58check";

/** A document id: the bs58check encoding of 16 bytes (a UUIDv4 when we generate it). */
export type DocumentId = string & { readonly __brand: "DocumentId" };

/** An `automerge:<document id>[#<head>|<head>…]` URL. */
export type AutomergeUrl = string & { readonly __brand: "AutomergeUrl" };

/** A document, optionally pinned to a point in its history. */
export interface DocumentRef {
  /** The document. */
  documentId: DocumentId;
  /** Heads as they appear in URLs: bs58check of each 32-byte change hash. Absent: the latest. */
  heads?: string[];
}

/** The codes of the errors this module throws; the same strings as in protocol/errors.ts. */
export type IdErrorCode = "ERR_INVALID_DOCUMENT_ID" | "ERR_INVALID_AUTOMERGE_URL";

/** An error thrown by this module; assert on `code`, never on `message`. */
export interface IdError extends Error {
  /** The stable error code. */
  code: IdErrorCode;
}

/** The prefix of every Automerge URL. */
export const automergeUrlPrefix = "automerge:";

const documentIdBytes = 16;
const headBytes = 32;
// Longest bs58check strings for those payloads (+4 checksum bytes): ceil(bytes * log 256 / log 58).
// Base58 decoding is quadratic, so longer input is refused before it reaches the decoder.
const maxDocumentIdLength = 28;
const maxHeadLength = 50;
const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Generates a new random document id (a UUIDv4, as automerge-repo's `Repo.create` makes). */
export function generateDocumentId(): DocumentId {
  const bytes = randomBytes(documentIdBytes);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // RFC 4122 variant
  return bs58check.encode(bytes) as DocumentId;
}

/**
 * Ids that passed the check lately, oldest first. The server checks the id of every sync message,
 * and each check is a base58 decode plus a double SHA-256 in JavaScript: 2–3% of its CPU while a
 * client pushes thousands of documents. Only valid ids are kept, and at most this many (~2 MiB).
 */
const recentlyValid = new Set<string>();
const recentlyValidLimit = 20_000;

/**
 * True when `value` is a document id: bs58check (valid checksum) of exactly 16 bytes. Like current
 * automerge-repo, any 16 bytes are accepted, not only UUID-shaped ones.
 */
export function isValidDocumentId(value: unknown): value is DocumentId {
  if (typeof value !== "string") return false;
  if (recentlyValid.has(value)) return true;
  if (decodeCheck(value, documentIdBytes, maxDocumentIdLength) === false) return false;
  if (recentlyValid.size >= recentlyValidLimit) {
    recentlyValid.delete(recentlyValid.values().next().value as string);
  }
  recentlyValid.add(value);
  return true;
}

/** Returns `input` as a DocumentId, or throws ERR_INVALID_DOCUMENT_ID. */
export function parseDocumentId(input: string): DocumentId {
  if (!isValidDocumentId(input)) throw invalidDocumentId(input);
  return input;
}

/** The 16 bytes a document id encodes; throws ERR_INVALID_DOCUMENT_ID for an invalid id. */
export function documentIdToBytes(documentId: DocumentId): Uint8Array {
  // Validated again: a DocumentId may have been made with a cast.
  const bytes =
    typeof documentId === "string"
      ? decodeCheck(documentId, documentIdBytes, maxDocumentIdLength)
      : false;
  if (bytes === false) throw invalidDocumentId(documentId);
  return bytes;
}

/** The document id of 16 bytes; throws ERR_INVALID_DOCUMENT_ID for any other length. */
export function documentIdFromBytes(bytes: Uint8Array): DocumentId {
  if (!(bytes instanceof Uint8Array) || bytes.length !== documentIdBytes) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
    throw idError(
      "ERR_INVALID_DOCUMENT_ID",
      `document id bytes are not valid: expected ${documentIdBytes} bytes, got ${got}`,
    );
  }
  return bs58check.encode(bytes) as DocumentId;
}

/** True when `value` is a valid `automerge:` URL (see `parseAutomergeUrl`). */
export function isValidAutomergeUrl(value: unknown): value is AutomergeUrl {
  if (typeof value !== "string") return false;
  try {
    parseAutomergeUrl(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `automerge:<document id>`, optionally followed by `#<head>|<head>…` where each head is
 * bs58check of a 32-byte hash (`#` alone pins the empty document, as in automerge-repo). Throws
 * ERR_INVALID_AUTOMERGE_URL naming the input. Sub-document paths (`automerge:<id>/a/b`) are not
 * supported and are refused.
 */
export function parseAutomergeUrl(input: string): DocumentRef {
  const fail = (problem: string): never => {
    throw idError("ERR_INVALID_AUTOMERGE_URL", `automerge url ${quote(input)} ${problem}`);
  };
  if (typeof input !== "string" || !input.startsWith(automergeUrlPrefix)) {
    return fail(`does not start with "${automergeUrlPrefix}"`);
  }
  const hash = input.indexOf("#");
  const idPart = input.slice(automergeUrlPrefix.length, hash === -1 ? undefined : hash);
  if (!isValidDocumentId(idPart)) {
    return fail(
      `is not valid: document id ${quote(idPart)} is not bs58check of ${documentIdBytes} bytes`,
    );
  }
  if (hash === -1) return { documentId: idPart };
  const headsPart = input.slice(hash + 1);
  const heads = headsPart === "" ? [] : headsPart.split("|");
  for (const head of heads) {
    if (!isValidHead(head)) {
      return fail(`is not valid: head ${quote(head)} is not bs58check of ${headBytes} bytes`);
    }
  }
  return { documentId: idPart, heads };
}

/**
 * Builds `automerge:<id>[#heads]`. Heads are sorted, so equal sets give equal URLs (as in
 * automerge-repo). Throws ERR_INVALID_DOCUMENT_ID or ERR_INVALID_AUTOMERGE_URL for bad parts.
 */
export function stringifyAutomergeUrl(ref: DocumentRef): AutomergeUrl {
  const documentId = parseDocumentId(ref.documentId);
  if (ref.heads === undefined) return `${automergeUrlPrefix}${documentId}` as AutomergeUrl;
  for (const head of ref.heads) {
    if (!isValidHead(head)) {
      throw idError(
        "ERR_INVALID_AUTOMERGE_URL",
        `automerge url for ${documentId}: head ${quote(head)} is not bs58check of ` +
          `${headBytes} bytes`,
      );
    }
  }
  return `${automergeUrlPrefix}${documentId}#${[...ref.heads].sort().join("|")}` as AutomergeUrl;
}

/**
 * Accepts what a person may paste: a bare document id or an `automerge:` URL, with surrounding
 * whitespace ignored. Throws ERR_INVALID_AUTOMERGE_URL for a bad URL, ERR_INVALID_DOCUMENT_ID
 * otherwise.
 */
export function parseDocumentRef(input: string): DocumentRef {
  const trimmed = typeof input === "string" ? input.trim() : input;
  if (typeof trimmed === "string" && trimmed.startsWith(automergeUrlPrefix)) {
    return parseAutomergeUrl(trimmed);
  }
  if (!isValidDocumentId(trimmed)) {
    throw invalidDocumentId(input, ` or an ${automergeUrlPrefix} url`);
  }
  return { documentId: trimmed };
}

/** Turns URL heads (bs58check) into Automerge's hex change hashes; throws for a bad head. */
export function urlHeadsToHex(heads: readonly string[]): string[] {
  return heads.map((head) => {
    const bytes = decodeCheck(head, headBytes, maxHeadLength);
    if (bytes === false) {
      throw idError(
        "ERR_INVALID_AUTOMERGE_URL",
        `automerge url heads: head ${quote(head)} is not bs58check of ${headBytes} bytes`,
      );
    }
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  });
}

/** Turns Automerge's hex change hashes into URL heads (bs58check); throws for a bad hash. */
export function hexToUrlHeads(hashes: readonly string[]): string[] {
  return hashes.map((hash) => {
    if (typeof hash !== "string" || !/^[0-9a-f]{64}$/i.test(hash)) {
      throw idError(
        "ERR_INVALID_AUTOMERGE_URL",
        `automerge url heads: change hash ${quote(hash)} is not ${headBytes} bytes of hex`,
      );
    }
    const bytes = new Uint8Array(headBytes);
    for (let i = 0; i < headBytes; i++) {
      bytes[i] = Number.parseInt(hash.slice(i * 2, i * 2 + 2), 16);
    }
    return bs58check.encode(bytes);
  });
}

/**
 * A random ephemeral peer id, `<prefix>-<12 base58 characters>` (about 70 random bits, so
 * concurrently connected peers do not collide). The prefix may use letters, digits, `.`, `_`, `-`.
 */
export function generatePeerId(prefix = "syncline"): string {
  if (typeof prefix !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(prefix)) {
    throw new RangeError(
      `peer id: prefix ${quote(prefix)} must be 1-64 letters, digits, ".", "_" or "-"`,
    );
  }
  return `${prefix}-${randomBase58(12)}`;
}

/** The payload when `text` is bs58check of exactly `length` bytes, else false. */
function decodeCheck(text: string, length: number, maxTextLength: number): Uint8Array | false {
  if (text.length === 0 || text.length > maxTextLength) return false;
  const payload = bs58check.decodeUnsafe(text);
  return payload !== undefined && payload.length === length ? payload : false;
}

function isValidHead(head: unknown): boolean {
  return typeof head === "string" && decodeCheck(head, headBytes, maxHeadLength) !== false;
}

function randomBytes(length: number): Uint8Array {
  // Web Crypto: the same call works in Node 20+ and in browsers.
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

function randomBase58(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length)) {
      // 232 = 4 * 58: rejecting larger bytes keeps every character equally likely.
      if (byte < 232 && out.length < length) out += base58Alphabet[byte % 58];
    }
  }
  return out;
}

// Quotes a value for an error message: JSON escapes control characters (no log injection) and
// long input is cut so a hostile megabyte does not end up in every log line.
function quote(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function invalidDocumentId(input: unknown, alternative = ""): IdError {
  return idError(
    "ERR_INVALID_DOCUMENT_ID",
    `document id ${quote(input)} is not valid: ` +
      `expected bs58check of ${documentIdBytes} bytes${alternative}`,
  );
}

function idError(code: IdErrorCode, message: string): IdError {
  // A plain Error with a code, since util may not import protocol/errors.ts; the codes are the
  // catalog's, so callers and describeError() treat it like any coded error.
  const error = new Error(message) as IdError;
  error.code = code;
  return error;
}
