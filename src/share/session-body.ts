// `GET /share_data`'s body: a share as OpenCode's share page reads it, the session assembled —
// `{info, messages: {<messageID>: {...message, parts: [...]}}}` — from the same stored bytes every
// other form of the state uses (share-snapshot.ts): only small heads are made here, the contents
// are streamed as they are. A message's parts are in key order, which is part id order (OpenCode
// orders them by id). Parts whose message is not stored are left out, as are keys it does not
// read (diff, model, other types).

import { parseShareKey } from "../protocol/share-items.js";
import type { StreamedBody } from "../util/streamed-body.js";

/** A stored key and its content's JSON bytes (share-snapshot.ts's StoredItem). */
interface Item {
  readonly key: string;
  readonly content: Buffer;
}

const infoHead = Buffer.from('{"info":');
const messagesAfterInfo = Buffer.from(',"messages":{');
const messagesFirst = Buffer.from('{"messages":{');
const end = Buffer.from("}}");
const comma = Buffer.from(",");
const partsOpen = Buffer.from('{"parts":[');
const partsCloseThenFields = Buffer.from("],");
const partsCloseThenEnd = Buffer.from("]}");

/** The session form of a share's items (given in key order). */
export function sessionBody(items: readonly Item[]): StreamedBody {
  let info: Item | undefined;
  const messages = new Map<string, Item>();
  const parts = new Map<string, Item[]>();
  for (const item of items) {
    const parsed = parseShareKey(item.key);
    if (parsed?.kind === "info") info = item;
    else if (parsed?.kind === "message" && isObjectJson(item.content)) {
      messages.set(parsed.messageID, item);
    } else if (parsed?.kind === "part") {
      const list = parts.get(parsed.messageID) ?? [];
      list.push(item);
      parts.set(parsed.messageID, list);
    }
  }
  const units: (readonly Buffer[])[] = [
    info === undefined ? [messagesFirst] : [infoHead, info.content, messagesAfterInfo],
  ];
  let first = true;
  for (const [messageID, message] of messages) {
    units.push(messageUnit(messageID, message.content, parts.get(messageID) ?? [], first));
    first = false;
  }
  units.push([end]);
  let byteLength = 0;
  for (const unit of units) for (const part of unit) byteLength += part.byteLength;
  return {
    byteLength,
    *units() {
      yield* units;
    },
  };
}

/**
 * `"<id>":{"parts":[…],<the message's fields>}`. The parts come first so that a message that
 * carries its own `parts` (OpenCode's first message form) keeps them: of two equal names in an
 * object, JSON readers keep the last, as OpenCode's own server does with `{parts: [], ...message}`.
 */
function messageUnit(id: string, content: Buffer, parts: readonly Item[], first: boolean) {
  const unit: Buffer[] = [Buffer.from(`${first ? "" : ","}${JSON.stringify(id)}:`), partsOpen];
  parts.forEach((part, index) => {
    if (index > 0) unit.push(comma);
    unit.push(part.content);
  });
  const empty = content.byteLength === 2; // "{}"
  unit.push(empty ? partsCloseThenEnd : partsCloseThenFields);
  if (!empty) unit.push(content.subarray(1));
  return unit;
}

/** True when stored content is a JSON object (the server serialized it: no leading space). */
function isObjectJson(content: Buffer): boolean {
  return content[0] === 0x7b; // "{"
}
