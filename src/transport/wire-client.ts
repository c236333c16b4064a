// The reconnecting client of the transport: dials, keeps the connection alive against the
// server's pings, and on loss reconnects with full-jitter backoff until closed. Authentication
// and version refusals are final; network failures are retried.

import { finalWireCloseCodes, WireCloseCode } from "../protocol/close-codes.js";
import {
  createError,
  isSynclineError,
  optionChecked,
  type SynclineError,
} from "../protocol/errors.js";
import { type BackoffOptions, createBackoff } from "../util/backoff.js";
import { TypedEmitter } from "../util/typed-emitter.js";
import type { Signer } from "./auth/signer.js";
import { ConnectionStateMachine, type StateChange } from "./connection-state.js";
import { startHeartbeat } from "./heartbeat.js";
import type { RetryInfo } from "./retry.js";
import { type DialedConnection, type DialOptions, dial } from "./wire-dial.js";

/** Options of a reconnecting client. */
export interface WireClientOptions extends DialOptions {
  /** Reconnect delays: full jitter, 0.5 s doubling to 15 s by default. */
  readonly backoff?: Partial<BackoffOptions>;
  /** Failed attempts in a row before giving up (ERR_CONNECT); default unlimited. */
  readonly maxAttempts?: number;
  /** Uptime after which the backoff counter resets (stops flapping), ms. Default 5000. */
  readonly stableAfterMs?: number;
  /** Silence beyond the server's ping period before the connection counts as dead, ms. Default 10000. */
  readonly graceMs?: number;
}

/** Events of a WireClient. */
export interface WireClientEvents {
  /** Every state change, with its reason. */
  state: (change: StateChange) => void;
  /** A connection is authenticated and ready (again, after each reconnect). */
  open: (dialed: DialedConnection) => void;
  /** The client gave up or was refused for good; it is closed. */
  failed: (error: SynclineError) => void;
  /** A connection failed or was lost and the next attempt starts after `delayMs`. */
  retry: (info: RetryInfo) => void;
}

/** A connection to one server that comes back after network failures. */
export class WireClient extends TypedEmitter<WireClientEvents> {
  readonly #options: WireClientOptions;
  readonly #machine = new ConnectionStateMachine();
  readonly #backoff;
  #current: DialedConnection | undefined;
  #failure: SynclineError | undefined;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  /** The keys to offer, the one the server accepted last first (no refused key on reconnect). */
  #signers: readonly Signer[];

  constructor(options: WireClientOptions) {
    super();
    this.#options = options;
    this.#signers = Array.isArray(options.signer) ? options.signer : [options.signer as Signer];
    this.#backoff = optionChecked("wire client", () => createBackoff(options.backoff));
    this.#machine.on("change", (change) => this.emit("state", change));
    void this.#attempt();
  }

  /** Adds a listener; returns its remover. A listener that is not a function: ERR_INVALID_OPTION. */
  override on<K extends keyof WireClientEvents>(
    event: K,
    listener: WireClientEvents[K],
  ): () => void {
    return optionChecked("wire client", () => super.on(event, listener));
  }

  /** Adds a listener for the next event only; returns its remover. */
  override once<K extends keyof WireClientEvents>(
    event: K,
    listener: WireClientEvents[K],
  ): () => void {
    return optionChecked("wire client", () => super.once(event, listener));
  }

  /** The current state: connecting, open, reconnecting or closed. */
  get state() {
    return this.#machine.state;
  }

  /** Why the client closed itself (refused, or out of retries); undefined if closed by `close()`. */
  get failure(): SynclineError | undefined {
    return this.#failure;
  }

  /** The open connection, when there is one. */
  get current(): DialedConnection | undefined {
    return this.#machine.state === "open" ? this.#current : undefined;
  }

  /** Resolves with the next open connection (at once when open); rejects if the client fails. */
  whenOpen(): Promise<DialedConnection> {
    const current = this.current;
    if (current) return Promise.resolve(current);
    if (this.#machine.state === "closed") {
      return Promise.reject(
        this.#failure ?? createError("ERR_CONNECTION_CLOSED", "wire client: closed"),
      );
    }
    return new Promise((resolve, reject) => {
      const offOpen = this.once("open", (dialed) => {
        offState();
        resolve(dialed);
      });
      // Closing — by `close()` or by giving up — settles every waiter, with the reason if any.
      const offState = this.on("state", (change) => {
        if (change.to !== "closed") return;
        offOpen();
        offState();
        reject(
          this.#failure ?? createError("ERR_CONNECTION_CLOSED", `wire client: ${change.reason}`),
        );
      });
    });
  }

  /** Closes for good: the connection with 1000, no more reconnects. */
  close(reason = "client closed"): void {
    if (this.#machine.state === "closed") return;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#stableTimer);
    this.#machine.set("closed", reason);
    this.#current?.connection.close(WireCloseCode.normal, reason);
  }

  async #attempt(): Promise<void> {
    try {
      const dialed = await dial({ ...this.#options, signer: this.#signers });
      if (this.#machine.state === "closed")
        return dialed.connection.close(WireCloseCode.normal, "client closed");
      this.#opened(dialed);
    } catch (error) {
      this.#lost(asSynclineError(error), "dialing");
    }
  }

  #opened(dialed: DialedConnection): void {
    this.#current = dialed;
    this.#signers = [dialed.signer, ...this.#signers.filter((signer) => signer !== dialed.signer)];
    this.#stableTimer = setTimeout(() => {
      this.#failures = 0;
      this.#backoff.reset();
    }, this.#options.stableAfterMs ?? 5000);
    const heartbeat = startHeartbeat({
      intervalMs: dialed.heartbeatMs,
      graceMs: this.#options.graceMs ?? 10_000,
      onTimeout: () => dialed.connection.terminate(),
    });
    dialed.connection.on("activity", () => heartbeat.alive());
    dialed.connection.on("close", (code, reason, error) => {
      heartbeat.stop();
      clearTimeout(this.#stableTimer);
      if (this.#machine.state === "closed") return;
      this.#lost(
        error ??
          createError("ERR_CONNECTION_CLOSED", `wire: connection lost (${code} ${reason})`.trim(), {
            closeCode: code,
          }),
        "open",
      );
    });
    this.#machine.set("open", `authenticated as ${dialed.peerId}`);
    this.emit("open", dialed);
  }

  /**
   * A dial failed, or an open connection was lost. A refusal that will not change (bad key,
   * no common version, no transport on the server, an untrusted certificate) is final; so is
   * running out of attempts. Anything else is retried after a jittered backoff.
   */
  #lost(error: SynclineError, when: "dialing" | "open"): void {
    if (this.#machine.state === "closed") return;
    this.#failures += 1;
    // A connection that fails or ends for reasons of its own (a confused handshake, a bad frame,
    // a reset) is tried again, unless its close code says the server will refuse us again; a
    // failure to reach the server at all is final when it is not retryable.
    const final =
      finalWireCloseCodes.has(error.closeCode ?? 0) ||
      finalLocalCodes.has(error.code) ||
      (when === "dialing" && isConnectFailure(error) && !error.retryable);
    const exhausted =
      this.#options.maxAttempts !== undefined && this.#failures >= this.#options.maxAttempts;
    if (final || exhausted) {
      const failure = final
        ? error
        : createError(
            "ERR_CONNECT",
            `${error.message} (gave up after ${this.#failures} attempts)`,
            { cause: error },
          );
      // Recorded before the state changes: `failure`, `whenOpen()` and the listeners of the
      // `closed` state (ChannelClient.receive rejects with it) must all see why we closed.
      this.#failure = failure;
      this.#machine.set("closed", error.message);
      this.emit("failed", failure);
      return;
    }
    const delay = this.#backoff.next();
    this.#machine.set("reconnecting", `${error.message}; retrying in ${Math.round(delay)} ms`);
    this.emit("retry", { attempt: this.#failures + 1, delayMs: delay, error });
    this.#retryTimer = setTimeout(() => {
      this.#machine.set("connecting", "backoff elapsed");
      void this.#attempt();
    }, delay);
  }
}

/**
 * Failures on our side that another attempt would meet again: the server is not the one we trust,
 * or our key cannot sign (the agent refused: a confirmation denied, the key removed; a key file
 * or passphrase problem). Retrying would only hide them behind "gave up after N attempts".
 */
const finalLocalCodes: ReadonlySet<string> = new Set([
  "ERR_AUTH_HOST_KEY",
  "ERR_AUTH_AGENT",
  "ERR_AUTH_KEY_FILE",
  "ERR_AUTH_PASSPHRASE",
  "ERR_AUTH_NO_IDENTITY",
]);

/** A failure to reach the server (the network, TLS, an HTTP refusal), not of the handshake. */
function isConnectFailure(error: SynclineError): boolean {
  return error.code === "ERR_CONNECT" || error.status !== undefined;
}

function asSynclineError(error: unknown): SynclineError {
  return isSynclineError(error)
    ? error
    : createError("ERR_UNEXPECTED", `wire client: ${String(error)}`, { cause: error });
}
