// The live-share data model shared by the server, the client queue and the browser viewer: share
// ids, the key schema (docs/protocol.md), the items publishers send and the key each one is stored
// under. Pure: no I/O, no node:* imports.

/** A share's public id: the last 8 characters of its session id. */
export type ShareId = string & { readonly __brand: "ShareId" };

/** Length of a share id (the last 8 characters of the session id, as OpenCode makes it). */
export const shareIdLength = 8;

/** Longest id segment (session, message or part id) accepted in a key. */
export const maxIdSegmentLength = 200;

const shareIdPattern = /^[A-Za-z0-9_-]{8}$/;
const segmentPattern = /^[A-Za-z0-9_.:-]+$/;

/** True when `value` is a well-formed share id. */
export function isShareId(value: unknown): value is ShareId {
  return typeof value === "string" && shareIdPattern.test(value);
}

/** The share id of a session (its last 8 characters), or undefined when that is not a valid id. */
export function shareIdOfSession(sessionID: string): ShareId | undefined {
  if (!isIdSegment(sessionID) || sessionID.length < shareIdLength) return undefined;
  const id = sessionID.slice(-shareIdLength);
  return isShareId(id) ? id : undefined;
}

/** True when `value` can be one segment of a key: a non-empty id without "/" or spaces. */
export function isIdSegment(value: unknown): value is string {
  return (
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= maxIdSegmentLength &&
    segmentPattern.test(value)
  );
}

/** What a stored key names. `session/share/<id>` is never part of a share. */
export type ShareKey =
  | { readonly kind: "info"; readonly sessionID: string }
  | { readonly kind: "message"; readonly sessionID: string; readonly messageID: string }
  | {
      readonly kind: "part";
      readonly sessionID: string;
      readonly messageID: string;
      readonly partID: string;
    }
  | { readonly kind: "diff"; readonly sessionID: string }
  | { readonly kind: "model"; readonly sessionID: string }
  /** An item of a type this server does not know, kept as sent (one value per type). */
  | { readonly kind: "other"; readonly sessionID: string; readonly type: string };

/** Parses a key of the schema, or returns undefined for any other string. */
export function parseShareKey(key: string): ShareKey | undefined {
  const [root, kind, ...ids] = key.split("/");
  if (root !== "session" || !ids.every(isIdSegment)) return undefined;
  const [sessionID, messageID, partID] = ids as [string, string | undefined, string | undefined];
  switch (kind) {
    case "info":
    case "diff":
    case "model":
      return ids.length === 1 ? { kind, sessionID } : undefined;
    case "message":
      return ids.length === 2 ? { kind, sessionID, messageID: messageID as string } : undefined;
    case "other":
      return ids.length === 2 ? { kind, sessionID, type: messageID as string } : undefined;
    case "part":
      return ids.length === 3
        ? { kind, sessionID, messageID: messageID as string, partID: partID as string }
        : undefined;
    default:
      return undefined;
  }
}

/** The item types a publisher sends, as OpenCode's clients do; each is stored under its key kind. */
export const shareItemTypes = ["session", "message", "part", "session_diff", "model"] as const;

/** One item of a sync request: `{type, data}`. */
export interface ShareItem {
  readonly type: string;
  readonly data: unknown;
}

/** The key an item is stored under, or why it has none (a message naming the bad value). */
export type ItemKey = { readonly key: string } | { readonly reason: string };

/**
 * The key of `item` in the share of `sessionID` (docs/protocol.md: session → session/info/<id>, message
 * → session/message/<sessionID>/<id>, part → session/part/<sessionID>/<messageID>/<id>,
 * session_diff → session/diff/<sessionID>, model → session/model/<sessionID>). An item naming
 * another session than the share's has no key. The key is also the client queue's dedupe key.
 */
export function keyOfItem(item: ShareItem, sessionID: string): ItemKey {
  const data = item.data as Record<string, unknown> | null | undefined;
  const isObject = typeof data === "object" && data !== null && !Array.isArray(data);
  const ownSession = (value: unknown): string | undefined => {
    if (value === undefined || value === sessionID) return undefined;
    return `item ${item.type}: sessionID ${JSON.stringify(value)} is not the share's session ${JSON.stringify(sessionID)}`;
  };
  switch (item.type) {
    case "session": {
      if (!isObject || !isIdSegment(data.id)) return { reason: badId("session", "id", data) };
      const mismatch = ownSession(data.id);
      return mismatch ? { reason: mismatch } : { key: `session/info/${sessionID}` };
    }
    case "message": {
      if (!isObject || !isIdSegment(data.id)) return { reason: badId("message", "id", data) };
      const mismatch = ownSession(data.sessionID);
      return mismatch ? { reason: mismatch } : { key: `session/message/${sessionID}/${data.id}` };
    }
    case "part": {
      if (!isObject || !isIdSegment(data.id)) return { reason: badId("part", "id", data) };
      if (!isIdSegment(data.messageID)) return { reason: badId("part", "messageID", data) };
      const mismatch = ownSession(data.sessionID);
      if (mismatch) return { reason: mismatch };
      return { key: `session/part/${sessionID}/${data.messageID}/${data.id}` };
    }
    case "session_diff":
      return Array.isArray(data)
        ? { key: `session/diff/${sessionID}` }
        : { reason: "item session_diff: data must be an array" };
    case "model":
      return Array.isArray(data)
        ? { key: `session/model/${sessionID}` }
        : { reason: "item model: data must be an array" };
    default:
      // A newer publisher's type (OpenCode adds some): kept, one value per type, so that nothing
      // of a batch is lost to a type this server has not heard of.
      return isIdSegment(item.type)
        ? { key: `session/other/${sessionID}/${item.type}` }
        : {
            reason: `item type ${JSON.stringify(item.type)} is not one of ${shareItemTypes.join(", ")} nor an id-like name (1–${maxIdSegmentLength} of A-Z a-z 0-9 _ . : -)`,
          };
  }
}

function badId(type: string, field: string, data: unknown): string {
  const value =
    typeof data === "object" && data !== null ? (data as Record<string, unknown>)[field] : data;
  return `item ${type}: ${field} ${JSON.stringify(value) ?? "undefined"} is not a valid id (1–${maxIdSegmentLength} of A-Z a-z 0-9 _ . : -)`;
}

/** The item type stored under each key kind (the inverse of `keyOfItem`). */
const itemTypeOfKind = {
  info: "session",
  message: "message",
  part: "part",
  diff: "session_diff",
  model: "model",
} as const satisfies Record<Exclude<ShareKey["kind"], "other">, (typeof shareItemTypes)[number]>;

/** The item type whose content is stored under `key`, or undefined for a key off the schema. */
export function itemTypeOfKey(key: string): string | undefined {
  const parsed = parseShareKey(key);
  if (parsed === undefined) return undefined;
  return parsed.kind === "other" ? parsed.type : itemTypeOfKind[parsed.kind];
}
