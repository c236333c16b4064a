// The viewer WebSocket (`GET /share_poll?id=<id>[&since=<seq>[&epoch=<epoch>]]`) as data: the
// frames the server sends, the reserved entries of the initial state, and the close codes. JSON text frames
// (as OpenCode's share server sends them) so its viewers keep working; `seq` is our addition. Pure.

/**
 * The initial state: every stored key mapped to its content, plus reserved entries:
 * `share/seq`, the sequence number of the last write it includes, and `share/epoch`, the share's
 * epoch (absent for a share stored without one). The seed's viewers only read keys under
 * `session/`, so the extra entries are invisible to them; ours reconnect with
 * `&since=<that seq>&epoch=<that epoch>`.
 */
export type InitialStateFrame = Record<string, unknown>;

/** The reserved entry of the initial state that carries its sequence number. */
export const initialSeqEntry = "share/seq";

/**
 * The reserved entry of the initial state that carries the share's epoch: a token fixed when the
 * share is created, so a share deleted and created again under the same id (its seq restarting at
 * 1) is told apart from the old one. Sequence numbers only compare within one epoch.
 */
export const initialEpochEntry = "share/epoch";

/** The form of an epoch: 1–64 characters of A-Z a-z 0-9 _ - (safe in a query string as is). */
const epochPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** True when `value` is a well-formed epoch. */
export function isShareEpoch(value: unknown): value is string {
  return typeof value === "string" && epochPattern.test(value);
}

/** True for the keys of the reserved entries (`share/seq`, `share/epoch`), not share data. */
export function isReservedEntry(key: string): boolean {
  return key === initialSeqEntry || key === initialEpochEntry;
}

/** One durable write, sent live in the order the server made writes durable . */
export interface UpdateFrame {
  readonly key: string;
  readonly content: unknown;
  /** The share's sequence number of this write: 1, 2, 3, … with no gaps. */
  readonly seq: number;
}

/** True when a parsed frame is an update (it has a string `key`), false for the initial state. */
export function isUpdateFrame(frame: unknown): frame is UpdateFrame {
  return (
    typeof frame === "object" &&
    frame !== null &&
    typeof (frame as { key?: unknown }).key === "string" &&
    "content" in frame
  );
}

/** Encodes an update frame: built once per write and sent to every viewer as the same string. */
export function encodeUpdateFrame(frame: UpdateFrame): string {
  return JSON.stringify({ key: frame.key, content: frame.content, seq: frame.seq });
}

/**
 * Encodes an update frame from content already serialized as JSON: the server serializes each
 * write's content once and reuses that text for storage, the frame and the initial state.
 */
export function encodeUpdateFrameJson(key: string, contentJson: string, seq: number): string {
  return `{"key":${JSON.stringify(key)},"content":${contentJson},"seq":${seq}}`;
}

/**
 * Encodes the initial state from `[key, content as JSON]` pairs, the sequence number of the last
 * write it includes and the share's epoch when it has one (the reserved entries come last:
 * `share/epoch`, then `share/seq`).
 */
export function encodeInitialStateJson(
  entries: Iterable<readonly [string, string]>,
  seq: number,
  epoch?: string,
): string {
  let out = "{";
  for (const [key, contentJson] of entries) out += `${JSON.stringify(key)}:${contentJson},`;
  if (epoch !== undefined) out += `${JSON.stringify(initialEpochEntry)}:${JSON.stringify(epoch)},`;
  return `${out}${JSON.stringify(initialSeqEntry)}:${seq}}`;
}

/** The `share/seq` of a parsed initial state, or undefined when it carries none. */
export function seqOfInitialState(frame: InitialStateFrame): number | undefined {
  const seq = frame[initialSeqEntry];
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0 ? seq : undefined;
}

/** The `share/epoch` of a parsed initial state, or undefined when it carries none (or a bad one). */
export function epochOfInitialState(frame: InitialStateFrame): string | undefined {
  const epoch = frame[initialEpochEntry];
  return isShareEpoch(epoch) ? epoch : undefined;
}
