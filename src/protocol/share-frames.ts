// The viewer WebSocket (`GET /share_poll?id=<id>[&since=<seq>[&epoch=<epoch>]][&v=2]`) as data:
// the frames the server sends and the form a viewer asks for. JSON text frames, one
// `{key, content}` per stored key as OpenCode's share server sends them (its viewers read
// `frame.key` of every frame), then `{key, content, seq}` per live write; `seq` is our addition.
// Version 2, which our viewer client asks for, ends a full state with a `state` frame carrying
// its seq and the share's epoch. Pure.

/** The query parameter naming the form of frames a viewer wants (absent: version 1). */
export const viewerVersionParam = "v";

/**
 * The forms of the viewer WebSocket. 1 (the default, OpenCode's): the full state is one
 * `{key, content}` frame per stored key, with nothing marking its end. 2: the same frames, then
 * one `{type: "state", seq, epoch}` frame that ends the full state.
 */
export const viewerVersions = [1, 2] as const;
export type ViewerVersion = (typeof viewerVersions)[number];

/** The newest form, which our viewer client asks for. */
export const latestViewerVersion: ViewerVersion = 2;

/** The form named by a `v` query value, or undefined for one this server does not know. */
export function parseViewerVersion(text: string): ViewerVersion | undefined {
  return viewerVersions.find((version) => String(version) === text);
}

/** The form of an epoch: 1–64 characters of A-Z a-z 0-9 _ - (safe in a query string as is). */
const epochPattern = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * True when `value` is a well-formed epoch: a token fixed when the share is created, so a share
 * deleted and created again under the same id (its seq restarting at 1) is told apart from the
 * old one. Sequence numbers only compare within one epoch.
 */
export function isShareEpoch(value: unknown): value is string {
  return typeof value === "string" && epochPattern.test(value);
}

/** One stored key of a full state: what it holds now. */
export interface SnapshotFrame {
  readonly key: string;
  readonly content: unknown;
}

/** One durable write, sent live in the order the server made writes durable. */
export interface UpdateFrame extends SnapshotFrame {
  /** The share's sequence number of this write: 1, 2, 3, … with no gaps. */
  readonly seq: number;
}

/** Version 2's end of a full state: the seq of the last write it includes, the share's epoch. */
export interface StateFrame {
  readonly type: "state";
  readonly seq: number;
  /** Absent for a share stored with none (see docs/protocol.md). */
  readonly epoch?: string;
}

/** True for a frame about one key: a key of a full state, or an update (it has a `seq`). */
export function isKeyFrame(frame: unknown): frame is SnapshotFrame | UpdateFrame {
  return (
    typeof frame === "object" &&
    frame !== null &&
    typeof (frame as { key?: unknown }).key === "string" &&
    "content" in frame
  );
}

/** True for an update: a key frame with a sequence number. */
export function isUpdateFrame(frame: unknown): frame is UpdateFrame {
  if (!isKeyFrame(frame)) return false;
  const seq = (frame as { seq?: unknown }).seq;
  return typeof seq === "number" && Number.isSafeInteger(seq) && seq >= 0;
}

/** The `state` frame in `frame`, or undefined when it is not a well-formed one. */
export function parseStateFrame(frame: unknown): StateFrame | undefined {
  if (typeof frame !== "object" || frame === null) return undefined;
  const { type, seq, epoch } = frame as Record<string, unknown>;
  if (type !== "state" || typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
    return undefined;
  }
  return isShareEpoch(epoch) ? { type, seq, epoch } : { type, seq };
}

/** Encodes an update frame: built once per write and sent to every viewer as the same string. */
export function encodeUpdateFrame(frame: UpdateFrame): string {
  return JSON.stringify({ key: frame.key, content: frame.content, seq: frame.seq });
}

/**
 * Encodes an update frame from content already serialized as JSON: the server serializes each
 * write's content once and reuses that text for storage, the frame and the full state.
 */
export function encodeUpdateFrameJson(key: string, contentJson: string, seq: number): string {
  return `${snapshotFrameHead(key)}${contentJson},"seq":${seq}}`;
}

/**
 * The text of a full state's frame for `key` up to its content: the frame is this, the content's
 * JSON, then `}`. The server keeps content as JSON bytes and sends them between the two as they
 * are.
 */
export function snapshotFrameHead(key: string): string {
  return `{"key":${JSON.stringify(key)},"content":`;
}

/** Encodes version 2's `state` frame. */
export function encodeStateFrame(seq: number, epoch: string | undefined): string {
  return JSON.stringify(
    epoch === undefined ? { type: "state", seq } : { type: "state", seq, epoch },
  );
}

/**
 * The key of the last frame a viewer of a deleted share gets before the close 4410. It is a
 * string (OpenCode's viewer splits every frame's key) whose root is not "session", so viewers
 * that keep only session keys ignore it; no stored key can take it (the key schema's root is
 * always "session").
 */
export const deletedFrameKey = "share/deleted";

/** The key root of control frames: frames about the share itself, never stored content. */
export const controlKeyRoot = "share";

/** `{"key":"share/deleted","content":{"id","deletedAt"}}`: the share is gone, since `deletedAt` ms. */
export function encodeDeletedFrame(id: string, deletedAt: number): string {
  return JSON.stringify({ key: deletedFrameKey, content: { id, deletedAt } });
}
