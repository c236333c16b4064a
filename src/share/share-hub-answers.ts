// What the share hub answers its callers (the HTTP routes and the viewer endpoint): a create's
// outcome, a share's state as an HTTP body, and what a joining viewer asked for.

import type { ViewerVersion } from "../protocol/share-frames.js";
import type { ShareId } from "../protocol/share-items.js";
import type { StreamedBody } from "../util/streamed-body.js";

/** A share's state as an HTTP body, held for its reader while it is streamed. */
export interface ShareBody extends StreamedBody {
  /** The seq of the last write it includes. */
  readonly seq: number;
  /** Ends the reader's hold on the share (idempotent). */
  finished(): void;
}

/** A create's answer: the share, and its secret only when it is new or the caller proved it. */
export interface CreatedShare {
  readonly id: ShareId;
  /** The secret: a new share's, or the one the caller sent for an existing share when it matches. */
  readonly secret?: string;
  /** True when this request created the share. */
  readonly created: boolean;
  /** True when the caller sent a secret for an existing share and it did not match. */
  readonly secretRefused: boolean;
}

/** What a joining viewer asked for (the viewer endpoint's query). */
export interface ViewerJoin {
  /** Catch up from this seq: only the frames after it, when the log still holds them. */
  readonly since?: number | undefined;
  /** The epoch `since` belongs to; when it is not the share's, the full state is sent. */
  readonly epoch?: string | undefined;
  /** The form of the full state (docs/protocol.md); default 1, OpenCode's. */
  readonly version?: ViewerVersion | undefined;
}
