// What the request bodies being read or handled hold in memory, across every connection: each
// route bounds one body (share_max_body_bytes), this bounds their sum (http_body_total_bytes), so
// many clients posting large bodies at once cannot together take the server's memory. A body
// that does not fit is refused (503 ERR_SERVER_BUSY with Retry-After) and the rest of it is read
// and dropped, not kept; a body's bytes stay counted until its route is done with them, since the
// route parses and applies them.

import { createError, type SynclineError } from "../protocol/errors.js";

/** How long a refused client is told to wait, seconds. */
const retryAfterSeconds = 1;

/** The bodies of one request, counted against the budget until `release`. */
export interface BodyAccount {
  /** Counts `bytes` more; false (nothing counted) when they do not fit. */
  take(bytes: number): boolean;
  /** Gives back everything this request counted (its response is finished). */
  release(): void;
}

/** The server-wide sum of request body bytes held. */
export class BodyBudget {
  readonly #totalBytes: number;
  readonly #onChange: (heldBytes: number) => void;
  #held = 0;

  /** `onChange` is told the bytes held after every change (a metric). */
  constructor(totalBytes: number, onChange: (heldBytes: number) => void = () => {}) {
    this.#totalBytes = totalBytes;
    this.#onChange = onChange;
  }

  /** Bytes held now. */
  get heldBytes(): number {
    return this.#held;
  }

  /** An account for one request's body. */
  account(): BodyAccount {
    let mine = 0;
    return {
      take: (bytes) => {
        // A body alone always fits (its own earlier chunks aside, nothing is held), so a budget
        // below one body's limit still serves one at a time.
        const others = this.#held - mine;
        if (others > 0 && this.#held + bytes > this.#totalBytes) return false;
        this.#held += bytes;
        mine += bytes;
        this.#onChange(this.#held);
        return true;
      },
      release: () => {
        if (mine === 0) return;
        this.#held -= mine;
        mine = 0;
        this.#onChange(this.#held);
      },
    };
  }

  /** The refusal of a body that does not fit (HTTP 503, Retry-After). */
  refusal(context: string): SynclineError {
    const error = createError(
      "ERR_SERVER_BUSY",
      `${context}: the server holds ${this.#held} bytes of request bodies, its limit is ${this.#totalBytes} (http_body_total_bytes); retry shortly`,
    );
    return Object.assign(error, { retryAfterSeconds });
  }
}
