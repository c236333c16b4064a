// The one-shot sync client's protocol state machine, apart from any socket: join → peer →
// request/sync exchange until neither side has anything to send. Pure, so every path is testable.

import * as Automerge from "@automerge/automerge";
import {
  automergeProtocolVersion,
  type DecodedRepoMessage,
  type JoinMessage,
  type SyncMessage,
} from "../../protocol/automerge-messages.js";
import { createError } from "../../protocol/errors.js";
import { changeCount, changesInSyncMessage } from "./change-count.js";
import { sharesHistory } from "./shared-history.js";

/** Where a session is: waiting for `peer`, exchanging sync messages, or finished. */
export type SyncSessionState = "joining" | "syncing" | "done";

/** What a session needs to know before it starts. */
export interface SyncSessionOptions {
  /** The document to sync. */
  readonly documentId: string;
  /** Our ephemeral peer id. */
  readonly peerId: string;
  /** The local copy; a document without changes counts as no local copy (we send `request`). */
  readonly doc: Automerge.Doc<unknown>;
  /** Ask whether the server has the document; never apply or send changes. */
  readonly dryRun?: boolean;
  /**
   * Merge a local copy whose history shares no change with the server's document. Without it the
   * session stops with ERR_SYNC_UNRELATED before sending any local change: the file most likely
   * holds another document than the id names.
   */
  readonly allowUnrelated?: boolean;
}

/** What the session decided after a message or a quiet period. */
export interface SyncStep {
  /** Frames to send, in order. */
  readonly send: readonly SyncMessage[];
  /** True once the sync is complete; `result()` may then be read. */
  readonly done: boolean;
}

/** What a finished (or interrupted) session knows. */
export interface SyncSessionResult {
  readonly doc: Automerge.Doc<unknown>;
  readonly serverPeerId: string | undefined;
  readonly protocolVersion: string | undefined;
  /** The server's heads (hex) as of its last sync message; undefined before the first one. */
  readonly serverHeads: readonly string[] | undefined;
  /** Dry run: whether the server has the document (undefined until known). */
  readonly existsOnServer: boolean | undefined;
  readonly changesSent: number;
  readonly changesReceived: number;
}

const noStep: SyncStep = { send: [], done: false };
const maxMessagesPerStep = 4;

/** One attempt's protocol state. A retry starts a new session from the merged document. */
export class SyncClientSession {
  #state: SyncSessionState = "joining";
  #doc: Automerge.Doc<unknown>;
  #syncState = Automerge.initSyncState();
  #serverPeerId: string | undefined;
  #protocolVersion: string | undefined;
  #serverHeads: string[] | undefined;
  #existsOnServer: boolean | undefined;
  #changesSent = 0;
  #changesReceived = 0;
  /** Whether the server sent a sync message after our last one (it has seen what we sent). */
  #answered = false;
  /** Set once the local copy is known to share history with the server's (or need not). */
  #relationSettled: boolean;
  readonly #options: SyncSessionOptions;
  readonly #hadLocalCopy: boolean;
  /** Whether the caller's document has changes (a dry run syncs as if it had none). */
  readonly #givenLocalCopy: boolean;

  constructor(options: SyncSessionOptions) {
    this.#options = options;
    // A dry run asks as a peer without a copy would, so it sends no changes.
    this.#doc = options.dryRun ? Automerge.init() : options.doc;
    this.#hadLocalCopy = Automerge.getHeads(this.#doc).length > 0;
    this.#givenLocalCopy = Automerge.getHeads(options.doc).length > 0;
    this.#relationSettled = !this.#hadLocalCopy || options.allowUnrelated === true;
  }

  get state(): SyncSessionState {
    return this.#state;
  }

  /** The first frame to send on a fresh connection. */
  join(): JoinMessage {
    return {
      type: "join",
      senderId: this.#options.peerId,
      peerMetadata: { isEphemeral: true },
      supportedProtocolVersions: [automergeProtocolVersion],
    };
  }

  /** Handles one decoded frame; throws a SynclineError when the server broke the exchange. */
  receive(message: DecodedRepoMessage): SyncStep {
    if (this.#state === "done") return noStep;
    switch (message.type) {
      case "peer":
        return this.#onPeer(message.senderId, message.selectedProtocolVersion);
      case "error":
        throw this.#state === "joining"
          ? createError(
              "ERR_AUTOMERGE_VERSION",
              `sync: the server refused our join (protocol "${automergeProtocolVersion}"): ${message.message || "no reason given"}`,
            )
          : createError(
              "ERR_AUTOMERGE_PROTOCOL",
              `sync: the server sent an error: ${message.message || "no reason given"}`,
            );
      case "sync":
      case "request":
        if (message.documentId !== this.#options.documentId) return noStep;
        this.#requireSyncing(message.type);
        return this.#onSync(message.data);
      case "doc-unavailable":
        if (message.documentId !== this.#options.documentId) return noStep;
        this.#requireSyncing(message.type);
        return this.#onUnavailable();
      default:
        // ephemeral, remote-heads-*, leave and unknown types carry nothing a one-shot sync needs.
        return noStep;
    }
  }

  /**
   * Called when the server has been silent for a while during the exchange: the safety net for
   * servers that never confirm our heads. Finishes when the server answered after our last
   * message (so it has seen what we sent); a request answered only with an empty document is
   * unavailable (the reference sends an empty sync before doc-unavailable).
   */
  quiet(): SyncStep {
    // A server that has not answered our last message may be slow (loading a large document):
    // only the overall deadline ends that wait.
    if (this.#state !== "syncing" || !this.#answered) return noStep;
    if (this.#options.dryRun) return this.#dryRunMissing();
    if (!this.#hadLocalCopy && this.#ourHeads().length === 0) throw this.#unavailable();
    return this.#finish();
  }

  /** What the session knows now (read after `done`, or to carry a merged doc into a retry). */
  result(): SyncSessionResult {
    return {
      doc: this.#options.dryRun ? this.#options.doc : this.#doc,
      serverPeerId: this.#serverPeerId,
      protocolVersion: this.#protocolVersion,
      serverHeads: this.#serverHeads,
      existsOnServer: this.#existsOnServer,
      changesSent: this.#changesSent,
      changesReceived: this.#changesReceived,
    };
  }

  #onPeer(serverPeerId: string, version: string): SyncStep {
    if (this.#state !== "joining") return noStep;
    if (version !== automergeProtocolVersion) {
      throw createError(
        "ERR_AUTOMERGE_VERSION",
        `sync: the server selected protocol version ${JSON.stringify(version)}; we speak "${automergeProtocolVersion}"`,
      );
    }
    this.#serverPeerId = serverPeerId;
    this.#protocolVersion = version;
    this.#state = "syncing";
    return { send: this.#generate(this.#hadLocalCopy ? "sync" : "request"), done: false };
  }

  #onSync(data: Uint8Array): SyncStep {
    let decoded: Automerge.DecodedSyncMessage;
    try {
      decoded = Automerge.decodeSyncMessage(data);
    } catch (error) {
      throw createError(
        "ERR_AUTOMERGE_MESSAGE",
        `sync: the server's sync message of ${data.length} bytes is not an automerge sync message`,
        { cause: error },
      );
    }
    this.#serverHeads = decoded.heads;
    this.#answered = true;
    if (this.#options.dryRun) {
      // Any document with content has heads; an empty reply may precede doc-unavailable.
      if (decoded.heads.length === 0) return noStep;
      return this.#finish(true);
    }
    const headsBefore = this.#ourHeads();
    const changesBefore = changeCount(this.#doc);
    try {
      [this.#doc, this.#syncState] = Automerge.receiveSyncMessage(this.#doc, this.#syncState, data);
    } catch (error) {
      throw createError(
        "ERR_AUTOMERGE_MESSAGE",
        `sync: cannot apply the server's sync message for ${this.#options.documentId}`,
        { cause: error },
      );
    }
    // What the document gained: a message may carry a whole document as one entry, or changes
    // we already hold.
    this.#changesReceived += changeCount(this.#doc) - changesBefore;
    // Before generating: the next message would carry our changes to the server.
    if (!this.#relationSettled) this.#checkRelation(headsBefore, decoded.heads);
    const send = this.#generate("sync");
    return this.#isComplete() ? this.#finish() : { send, done: false };
  }

  /** Throws ERR_SYNC_UNRELATED when the local copy and the server's share no change. */
  #checkRelation(localHeads: readonly string[], serverHeads: readonly string[]): void {
    // A server with nothing of the document has nothing to mix ours into: this is a push.
    const shared =
      serverHeads.length === 0 ? true : sharesHistory(this.#doc, localHeads, serverHeads);
    if (shared === undefined) return;
    this.#relationSettled = true;
    if (shared) return;
    throw createError(
      "ERR_SYNC_UNRELATED",
      `sync: the local copy and document ${this.#options.documentId} on the server share no ` +
        "history: the file holds another document. Nothing was sent and the file is unchanged; " +
        "to merge the two anyway, run again with --allow-unrelated",
    );
  }

  #onUnavailable(): SyncStep {
    if (this.#options.dryRun) return this.#dryRunMissing();
    // With a local copy the server gets it from our `sync`; without one there is nothing to get.
    if (this.#hadLocalCopy || this.#ourHeads().length > 0) return noStep;
    throw this.#unavailable();
  }

  /**
   * Done when the server's last message has exactly our heads: we have just generated until
   * null, so we have nothing to send, and equal heads mean it has nothing we lack.
   */
  #isComplete(): boolean {
    const ours = this.#ourHeads();
    const theirs = this.#serverHeads;
    if (theirs === undefined || ours.length === 0) return false;
    return theirs.length === ours.length && theirs.every((head) => ours.includes(head));
  }

  /**
   * Generates until Automerge has nothing more to say (it returns null while in flight). While
   * it is not yet known whether the local copy is the server's document, a message that would
   * carry local changes goes without them, and the sync state from before it is kept, so the
   * changes are generated again once the relation is settled.
   */
  #generate(type: "sync" | "request"): SyncMessage[] {
    const out: SyncMessage[] = [];
    // Bounded: Automerge answers null on the second call, since the first is then in flight.
    for (let i = 0; i < maxMessagesPerStep; i++) {
      const [syncState, generated] = Automerge.generateSyncMessage(this.#doc, this.#syncState);
      if (generated === null) {
        this.#syncState = syncState;
        break;
      }
      const withheld = this.#relationSettled ? undefined : withoutChanges(generated);
      if (withheld === undefined) this.#syncState = syncState;
      const data = withheld ?? generated;
      this.#answered = false;
      if (!this.#options.dryRun) {
        this.#changesSent += changesInSyncMessage(data);
      }
      out.push({
        type: out.length === 0 ? type : "sync",
        senderId: this.#options.peerId,
        targetId: this.#serverPeerId as string,
        documentId: this.#options.documentId,
        data,
      });
      if (withheld !== undefined) break; // the state did not move: the same message would follow
    }
    return out;
  }

  /**
   * A dry run learned the server lacks the document. It predicts the real run: that pushes a
   * local copy (done, exists false), and without one fails with ERR_DOCUMENT_UNAVAILABLE.
   */
  #dryRunMissing(): SyncStep {
    if (!this.#givenLocalCopy) throw this.#unavailable();
    return this.#finish(false);
  }

  #finish(existsOnServer?: boolean): SyncStep {
    if (existsOnServer !== undefined) this.#existsOnServer = existsOnServer;
    this.#state = "done";
    return { send: [], done: true };
  }

  #requireSyncing(type: string): void {
    if (this.#state === "joining") {
      throw createError(
        "ERR_AUTOMERGE_PROTOCOL",
        `sync: the server sent "${type}" before answering our join with "peer"`,
      );
    }
  }

  #ourHeads(): string[] {
    return Automerge.getHeads(this.#doc);
  }

  #unavailable() {
    return createError(
      "ERR_DOCUMENT_UNAVAILABLE",
      `sync: document ${this.#options.documentId} is not on the server and there is no local copy`,
    );
  }
}

/** `data` re-encoded without its changes, or undefined when it carries none. */
function withoutChanges(data: Uint8Array): Uint8Array | undefined {
  const decoded = Automerge.decodeSyncMessage(data);
  if (decoded.changes.length === 0) return undefined;
  return Automerge.encodeSyncMessage({ ...decoded, changes: [] });
}
