// The one-shot sync client behind `syncline sync`: syncs one document with an automerge-repo
// sync server (ours or the reference) over a WebSocket, with retries, backoff and one deadline.

import * as Automerge from "@automerge/automerge";
import type { RawData, WebSocket } from "ws";
import {
  decodeRepoMessage,
  encodeRepoMessage,
  type RepoMessage,
} from "../../protocol/automerge-messages.js";
import { AutomergeCloseCode } from "../../protocol/close-codes.js";
import { createError, describeError, type SynclineError } from "../../protocol/errors.js";
import { dialWebSocket } from "../../transport/dial-websocket.js";
import { gaveUp, isRetryable, sleep } from "../../transport/retry.js";
import { describeAddress } from "../../transport/server-address.js";
import { generatePeerId } from "../../util/ids.js";
import { SyncClientSession, type SyncSessionState, type SyncStep } from "./sync-client-session.js";
import {
  type ResolvedSyncOptions,
  resolveSyncOptions,
  type SyncDocumentOptions,
} from "./sync-options.js";

/** The outcome of a finished sync. */
export interface SyncDocumentResult {
  /** The merged document (the unchanged local copy after a dry run). */
  readonly doc: Automerge.Doc<unknown>;
  readonly peerId: string;
  readonly serverPeerId: string;
  readonly protocolVersion: string;
  /** Hex change hashes: of the merged document, or the server's after a dry run. */
  readonly heads: readonly string[];
  readonly changesSent: number;
  readonly changesReceived: number;
  /** Dry run: whether the server has the document; otherwise true. */
  readonly existsOnServer: boolean;
  readonly attempts: number;
}

/**
 * Runs the sync to completion; rejects with a SynclineError whose code says what failed (an
 * invalid option before anything is sent: ERR_INVALID_SERVER_URL, ERR_INVALID_DOCUMENT_ID,
 * ERR_INVALID_OPTION).
 */
export async function syncDocument(given: SyncDocumentOptions): Promise<SyncDocumentResult> {
  const { resolved: options, backoff } = resolveSyncOptions(given);
  const peerId = options.peerId ?? generatePeerId("syncline-cli");
  // One stop switch for the deadline and the caller's signal; its reason tells them apart.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort("deadline"), options.timeoutMs);
  const interrupt = () => deadline.abort("interrupted");
  if (options.signal?.aborted) interrupt();
  options.signal?.addEventListener("abort", interrupt, { once: true });
  // What earlier attempts merged and counted carries into the next one.
  const carried = { doc: options.doc, changesSent: 0, changesReceived: 0 };
  try {
    for (let attempt = 1; ; attempt++) {
      const session = new SyncClientSession({
        documentId: options.documentId,
        peerId,
        doc: carried.doc,
        dryRun: options.dryRun === true,
        // A retry carries the merged document, which then shares the server's history anyway.
        allowUnrelated: options.allowUnrelated === true,
      });
      const progress = { phase: "connecting" as Phase };
      try {
        await runAttempt(session, options, deadline.signal, progress);
        return resultOf(session, options, { peerId, attempt, carried });
      } catch (error) {
        const partial = session.result();
        carried.doc = partial.doc;
        carried.changesSent += partial.changesSent;
        carried.changesReceived += partial.changesReceived;
        if (deadline.signal.aborted)
          throw stoppedError(options, deadline.signal, progress.phase, error);
        if (!isRetryable(error)) throw error;
        if (attempt > options.retries) throw gaveUp(error as SynclineError, attempt);
        const delayMs = backoff.next();
        options.onRetry?.({ attempt: attempt + 1, delayMs, error: error as SynclineError });
        await sleep(delayMs, deadline.signal);
        if (deadline.signal.aborted)
          throw stoppedError(options, deadline.signal, "retrying", error);
      }
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", interrupt);
  }
}

function resultOf(
  session: SyncClientSession,
  options: ResolvedSyncOptions,
  run: {
    peerId: string;
    attempt: number;
    carried: { changesSent: number; changesReceived: number };
  },
): SyncDocumentResult {
  const result = session.result();
  return {
    doc: result.doc,
    peerId: run.peerId,
    serverPeerId: result.serverPeerId ?? "",
    protocolVersion: result.protocolVersion ?? "",
    heads: options.dryRun ? (result.serverHeads ?? []) : Automerge.getHeads(result.doc),
    changesSent: run.carried.changesSent + result.changesSent,
    changesReceived: run.carried.changesReceived + result.changesReceived,
    existsOnServer: result.existsOnServer ?? true,
    attempts: run.attempt,
  };
}

type Phase = "connecting" | SyncSessionState;

/** One connection: resolves when the session is done, rejects on any failure or the deadline. */
function runAttempt(
  session: SyncClientSession,
  options: ResolvedSyncOptions,
  deadline: AbortSignal,
  progress: { phase: Phase },
): Promise<void> {
  return new SyncAttempt(session, options, deadline, progress).run();
}

/** One connection's I/O: frames in go to the session, the session's answers go out. */
class SyncAttempt {
  #socket: WebSocket | undefined;
  #quietTimer: NodeJS.Timeout | undefined;
  #settled = false;
  #settle: (error?: unknown) => void = () => {};
  readonly #onDeadline = () => this.#finish(new Error("deadline"));

  constructor(
    readonly session: SyncClientSession,
    readonly options: ResolvedSyncOptions,
    readonly deadline: AbortSignal,
    readonly progress: { phase: Phase },
  ) {}

  run(): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    if (this.deadline.aborted) {
      this.#onDeadline();
      return done;
    }
    this.deadline.addEventListener("abort", this.#onDeadline, { once: true });
    dialWebSocket({
      address: this.options.server,
      path: endpointPath(this.options.token),
      context: "sync",
      timeoutMs: this.options.timeoutMs,
      maxPayload: this.options.maxFrameBytes,
      ca: this.options.ca,
    }).then(
      ({ socket }) => this.#onOpen(socket),
      (error) => this.#finish(error),
    );
    return done;
  }

  #onOpen(socket: WebSocket): void {
    if (this.#settled) return void socket.terminate();
    this.#socket = socket;
    this.progress.phase = "joining";
    const url = describeAddress(this.options.server);
    socket.on("message", (data, isBinary) => this.#step(() => this.#receive(data, isBinary)));
    socket.on("error", (error) => this.#finish(socketError(url, error)));
    socket.on("close", (code, reason) => this.#finish(closedError(url, code, reason)));
    this.#send([this.session.join()]);
  }

  #receive(data: RawData, isBinary: boolean): SyncStep {
    const step = this.session.receive(decodeRepoMessage(frameBytes(data, isBinary)));
    this.progress.phase = this.session.state;
    return step;
  }

  /** Runs one session step (a frame or a quiet period) and acts on what it decided. */
  #step(next: () => SyncStep): void {
    if (this.#settled) return;
    try {
      const step = next();
      this.#send(step.send);
      if (step.done) this.#finish();
      else this.#armQuiet();
    } catch (error) {
      this.#finish(error);
    }
  }

  #armQuiet(): void {
    clearTimeout(this.#quietTimer);
    if (this.session.state !== "syncing") return;
    this.#quietTimer = setTimeout(
      () => this.#step(() => this.session.quiet()),
      this.options.quietMs,
    );
  }

  #send(messages: readonly RepoMessage[]): void {
    for (const message of messages) this.#socket?.send(encodeRepoMessage(message));
  }

  /** The one teardown path: a clean close on success, a terminate on any failure. */
  #finish(error?: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    clearTimeout(this.#quietTimer);
    this.deadline.removeEventListener("abort", this.#onDeadline);
    const socket = this.#socket;
    if (error !== undefined || socket === undefined) {
      socket?.terminate();
      this.#settle(error);
      return;
    }
    // Let the last frames and the close handshake reach the server before the CLI exits, so it
    // sees a clean 1000 rather than a dropped connection; a server that never answers the close
    // costs at most closeWaitMs.
    const timer = setTimeout(() => {
      socket.terminate();
      this.#settle();
    }, closeWaitMs);
    socket.once("close", () => {
      clearTimeout(timer);
      this.#settle();
    });
    socket.close(AutomergeCloseCode.normal, "sync complete");
  }
}

const closeWaitMs = 500;

/** The endpoint's path under the address: its root, with the token in the query. */
function endpointPath(token: string | undefined): string {
  return token === undefined ? "/" : `/?${new URLSearchParams({ token })}`;
}

function frameBytes(data: RawData, isBinary: boolean): Uint8Array {
  if (!isBinary) {
    throw createError(
      "ERR_AUTOMERGE_MESSAGE",
      "sync: the server sent a text frame; automerge-repo frames are binary CBOR",
    );
  }
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function closedError(url: string, code: number, reason: Buffer): SynclineError {
  const why = reason.length > 0 ? `: ${reason.toString("utf8").slice(0, 200)}` : "";
  return createError(
    "ERR_CONNECTION_CLOSED",
    `sync: ${url} closed the connection (code ${code}${why}) before the sync finished`,
  );
}

function socketError(url: string, error: Error): SynclineError {
  const code = (error as { code?: unknown }).code;
  // ws reports frames that break the WebSocket protocol as WS_ERR_*; that is the server's fault.
  if (typeof code === "string" && code.startsWith("WS_ERR_")) {
    return createError(
      "ERR_AUTOMERGE_MESSAGE",
      `sync: ${url} sent an invalid WebSocket frame: ${describeError(error)}`,
      { cause: error },
    );
  }
  return createError(
    "ERR_CONNECTION_CLOSED",
    `sync: connection to ${url} failed: ${describeError(error)}`,
    { cause: error },
  );
}

const phaseWords: Record<Phase | "retrying", string> = {
  connecting: "while connecting",
  joining: "waiting for the server's answer to join",
  syncing: "while syncing",
  done: "while closing",
  retrying: "between retries",
};

function stoppedError(
  options: ResolvedSyncOptions,
  stop: AbortSignal,
  phase: Phase | "retrying",
  last: unknown,
): SynclineError {
  if (stop.reason !== "interrupted") return timeoutError(options, phase, last);
  return createError(
    "ERR_INTERRUPTED",
    `sync: interrupted ${phaseWords[phase]}, before ${options.documentId} was synced`,
  );
}

function timeoutError(options: ResolvedSyncOptions, phase: Phase | "retrying", last: unknown) {
  const seconds = options.timeoutMs / 1000;
  const lastFailure =
    last instanceof Error && last.message !== "deadline" ? `; last failure: ${last.message}` : "";
  return createError(
    "ERR_TIMEOUT",
    `sync: ${options.documentId} with ${describeAddress(options.server)} did not finish within ${seconds} s (${phaseWords[phase]})${lastFailure}`,
  );
}
