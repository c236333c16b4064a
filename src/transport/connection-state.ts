// The reconnecting client's state machine: four states, one transition funnel that checks the
// move is legal and emits only on change, with the reason for every transition.

import { createError } from "../protocol/errors.js";
import { TypedEmitter } from "../util/typed-emitter.js";

/** The states of a reconnecting connection. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** Why the state changed, for logs and callers. */
export interface StateChange {
  readonly from: ConnectionState;
  readonly to: ConnectionState;
  readonly reason: string;
}

const legal: Record<ConnectionState, readonly ConnectionState[]> = {
  connecting: ["open", "reconnecting", "closed"],
  open: ["reconnecting", "closed"],
  reconnecting: ["connecting", "closed"],
  closed: [],
};

/** Holds the current state; `set` is the only way to change it. */
export class ConnectionStateMachine extends TypedEmitter<{
  change: (change: StateChange) => void;
}> {
  #state: ConnectionState = "connecting";
  #reason = "initial connect";

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the machine is in its current state. */
  get reason(): string {
    return this.#reason;
  }

  /**
   * Moves to `to`; a no-op when already there. An illegal move (anything out of `closed`, or
   * `open` → `connecting`) throws: it is a bug in the caller, not a network condition.
   */
  set(to: ConnectionState, reason: string): boolean {
    const from = this.#state;
    if (from === to) return false;
    if (!legal[from].includes(to)) {
      throw createError(
        "ERR_UNEXPECTED",
        `connection state: cannot move from ${from} to ${to} (${reason})`,
      );
    }
    this.#state = to;
    this.#reason = reason;
    this.emit("change", { from, to, reason });
    return true;
  }
}
