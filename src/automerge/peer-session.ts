// One socket's automerge-repo session as a state machine apart from I/O: awaiting-join →
// joined → closed. It decodes frames, enforces the handshake, and hands sync and ephemeral
// messages to the hub; the socket only moves bytes and close codes.

import {
  automergeProtocolVersion,
  type DecodedRepoMessage,
  decodeRepoMessage,
  encodeRepoMessage,
  type RepoMessage,
} from "../protocol/automerge-messages.js";
import { AutomergeCloseCode } from "../protocol/close-codes.js";
import { createError, isSynclineError, type SynclineError } from "../protocol/errors.js";
import { isValidDocumentId } from "../util/ids.js";
import type { HubPeer } from "./document-entry.js";
import type { DocumentHub } from "./document-hub.js";

/** The session's states; `closed` is final. */
export type PeerSessionState = "awaiting-join" | "joined" | "closed";

/** What the session needs of its socket. */
export interface PeerSessionIo {
  /** Sends one binary frame. */
  send(frame: Uint8Array): void;
  /** Whether `bytes` more may be queued for the peer now (its output is within budget). */
  admits(bytes: number): boolean;
  /** Closes the socket with a code and a short reason. */
  close(code: number, reason: string): void;
}

/** Options of a session. */
export interface PeerSessionOptions {
  readonly hub: DocumentHub;
  /** The server's storage id, announced in `peer`. */
  readonly storageId: string;
  /**
   * Asked before a first sync of a document the server does not have creates it: the refusal
   * (a rate limit's) closes this socket. Default: every creation is admitted.
   */
  readonly admitNewDocument?: (documentId: string) => SynclineError | undefined;
  /** Told about every error that ended the session, for logs. */
  readonly onError?: (error: SynclineError) => void;
}

/** One socket's session; feed it frames with `receive`, tell it `socketClosed` at the end. */
export class PeerSession {
  #state: PeerSessionState = "awaiting-join";
  #peer: HubPeer | undefined;
  readonly #io: PeerSessionIo;
  readonly #options: PeerSessionOptions;

  constructor(io: PeerSessionIo, options: PeerSessionOptions) {
    this.#io = io;
    this.#options = options;
  }

  get state(): PeerSessionState {
    return this.#state;
  }

  /** The peer id joined with, once joined. */
  get peerId(): string | undefined {
    return this.#peer?.peerId;
  }

  /** Handles one frame; a malformed or out-of-order one closes this socket and nothing else. */
  receive(frame: Uint8Array): void {
    if (this.#state === "closed") return;
    try {
      this.#dispatch(decodeRepoMessage(frame), frame.length);
    } catch (error) {
      this.#fail(
        isSynclineError(error)
          ? error
          : createError("ERR_UNEXPECTED", `automerge session: ${(error as Error).message}`, {
              cause: error,
            }),
      );
    }
  }

  /** The socket closed (either side): forget this peer's sync states. */
  socketClosed(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    if (this.#peer) this.#options.hub.detach(this.#peer);
  }

  #dispatch(message: DecodedRepoMessage, bytes: number): void {
    if (this.#state === "awaiting-join") {
      if (message.type !== "join") {
        throw createError(
          "ERR_AUTOMERGE_PROTOCOL",
          `automerge session: first message is "${message.type}", not "join"`,
        );
      }
      this.#join(message.senderId, message.supportedProtocolVersions);
      return;
    }
    const peer = this.#peer as HubPeer;
    // Frames on behalf of another peer id are dropped, as automerge-repo's server adapter does.
    if (message.senderId !== peer.peerId) return;
    switch (message.type) {
      case "join":
        // Joined already: the answer is redundant, so it is sent only within the peer's output
        // budget (else each small join would queue a larger answer for a peer that never reads).
        this.#sendPeer(peer.peerId, true);
        return;
      case "sync":
      case "request":
        if (!isValidDocumentId(message.documentId)) {
          throw createError(
            "ERR_AUTOMERGE_MESSAGE",
            `automerge session: ${message.type} names document ${JSON.stringify(message.documentId.slice(0, 60))}, not a document id`,
          );
        }
        this.#options.hub.sync(peer, message);
        return;
      case "ephemeral":
        this.#options.hub.ephemeral(peer, message, bytes);
        return;
      default:
        // doc-unavailable, leave, remote-subscription-change, remote-heads-changed, peer, error
        // and unknown types: nothing the server needs to do (the reference ignores them too).
        return;
    }
  }

  #join(peerId: string, versions: readonly string[]): void {
    if (!versions.includes(automergeProtocolVersion)) {
      this.#send({
        type: "error",
        senderId: this.#options.hub.serverPeerId,
        message: "unsupported protocol version",
        targetId: peerId,
      });
      throw createError(
        "ERR_AUTOMERGE_VERSION",
        `automerge session: peer ${peerId} supports protocol versions ${JSON.stringify(versions)}, not "${automergeProtocolVersion}"`,
      );
    }
    const peer: HubPeer = {
      peerId,
      send: (message) => this.#send(message),
      admits: (bytes) => this.#state !== "closed" && this.#io.admits(bytes),
      fail: (error) => this.#fail(error),
      admitNewDocument: (documentId) => this.#options.admitNewDocument?.(documentId),
    };
    this.#peer = peer;
    this.#state = "joined";
    this.#options.hub.attach(peer);
    this.#sendPeer(peerId);
  }

  /** Sends `peer`; when `droppable`, only if the peer's output admits it. */
  #sendPeer(peerId: string, droppable = false): void {
    if (this.#state === "closed") return;
    const frame = encodeRepoMessage({
      type: "peer",
      senderId: this.#options.hub.serverPeerId,
      peerMetadata: { storageId: this.#options.storageId, isEphemeral: false },
      selectedProtocolVersion: automergeProtocolVersion,
      targetId: peerId,
    });
    if (!droppable || this.#io.admits(frame.length)) this.#io.send(frame);
  }

  #send(message: RepoMessage): void {
    if (this.#state === "closed") return;
    this.#io.send(encodeRepoMessage(message));
  }

  #fail(error: SynclineError): void {
    if (this.#state === "closed") return;
    this.socketClosed();
    this.#options.onError?.(error);
    // The code says what happened; the reason is a hint (the socket layer trims it to 123 bytes).
    this.#io.close(error.closeCode ?? AutomergeCloseCode.internalError, error.message);
  }
}
