// Automerge documents across several nodes sharing one store. The store is the truth: every
// change a node accepts is durable there, in a piece named by its hash (document-store.ts),
// before any peer hears of it. The bus only makes it early: once a piece is durable its node
// publishes it, and a node holding the document applies it, records it as durable (nothing is
// written again) and answers its own peers as after any round.
//
// Why this converges: a document is a CRDT, so applying a piece twice, late, or in another order
// changes nothing of the result, and whatever the bus loses is still in the store. A node that
// may have missed news (the bus resumed after an outage, a piece that could not be applied, a
// hint that another node failed to publish) reads the pieces its document does not include yet
// and applies them; a node that did not hold the document reads everything on its next load.
// Compaction deletes only pieces the compacting node's document includes, so no piece is lost
// before some node has it in a snapshot.

import type { Bus } from "../bus/bus.js";
import type { EphemeralMessage } from "../protocol/automerge-messages.js";
import { isSynclineError } from "../protocol/errors.js";
import type { HubObserver } from "./document-hub-options.js";
import {
  decodeEphemeral,
  decodeNodeMessage,
  documentTopic,
  encodeEphemeral,
  encodeNodeMessage,
  ephemeralTopic,
  type NodeMessage,
} from "./node-messages.js";

/** What the hub does with news from other nodes. */
export interface NodesHost {
  readonly observer: HubObserver;
  /** Another node stored piece `name` of document `documentId`. */
  stored(documentId: string, name: string, bytes: Uint8Array): void;
  /** Another node deleted the document. */
  deleted(documentId: string): void;
  /** News may have been lost: of one document, or (undefined) of any. */
  refresh(documentId: string | undefined): void;
  /** Another node (`from`) relays an ephemeral message of `bytes`. */
  ephemeral(from: string, message: EphemeralMessage, bytes: number): void;
}

/**
 * Documents whose news could not be published are remembered, so that the others are told to
 * read the store once the bus is back; past this many, they are told to refresh everything.
 */
const maxUnpublished = 10_000;

/**
 * Largest piece sent on the bus with its bytes; a larger one (a huge document's first snapshot)
 * is announced by a refresh hint, and the nodes holding the document read it from the store. A
 * pub/sub message is copied whole into every subscriber's output buffer (Redis closes a
 * subscriber past 32 MiB by default), and the bus is for news, not for moving documents.
 */
export const maxPieceOnBus = 64 * 1024;

/** One node's part in a deployment of several; `start` once, `close` at shutdown. */
export class DocumentNodes {
  readonly #bus: Bus;
  readonly #host: NodesHost;
  /** Documents whose news was not published, and whether that news was their deletion. */
  readonly #unpublished = new Map<string, "changed" | "deleted">();
  #unpublishedOverflow = false;
  #unsubscribe: (() => Promise<void>)[] = [];
  #stopResume: (() => void) | undefined;
  #closed = false;

  constructor(bus: Bus, host: NodesHost) {
    this.#bus = bus;
    this.#host = host;
  }

  /** Subscribes to the other nodes' news; resolves once a message published now would arrive. */
  async start(): Promise<void> {
    this.#stopResume = this.#bus.onResume(() => this.#resumed());
    this.#unsubscribe.push(
      await this.#bus.subscribe(documentTopic, (payload) => this.#receive(payload)),
    );
    this.#unsubscribe.push(
      await this.#bus.subscribe(ephemeralTopic, (payload, from) =>
        this.#receiveEphemeral(payload, from),
      ),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stopResume?.();
    await Promise.all(this.#unsubscribe.splice(0).map((stop) => stop().catch(() => {})));
  }

  /** Tells the other nodes that piece `name` of the document is durable (best effort). */
  stored(documentId: string, name: string, bytes: Uint8Array): void {
    const message: NodeMessage =
      bytes.length > maxPieceOnBus
        ? { t: "r", id: documentId }
        : { t: "c", id: documentId, name, bytes };
    this.#publish(documentId, message, "changed");
  }

  /** Tells the other nodes that the document was deleted. */
  deleted(documentId: string): void {
    this.#publish(documentId, { t: "d", id: documentId }, "deleted");
  }

  /** Relays an ephemeral message (relayed here already) to the peers on the other nodes. */
  ephemeral(message: EphemeralMessage): void {
    if (this.#closed) return;
    // Lost, it is lost: ephemeral messages are best effort everywhere.
    this.#bus.publish(ephemeralTopic, encodeEphemeral(message)).catch(() => {});
  }

  #receive(payload: Uint8Array): void {
    if (this.#closed) return;
    const message = decodeNodeMessage(payload);
    if (!message) {
      this.#host.observer.error?.(
        new Error(`an automerge message of ${payload.byteLength} bytes is not one`),
        "reading automerge news from another node",
      );
      return;
    }
    switch (message.t) {
      case "c":
        this.#host.stored(message.id, message.name, message.bytes);
        return;
      case "d":
        this.#host.deleted(message.id);
        return;
      case "r":
        this.#host.refresh(message.id);
        return;
      case "a":
        this.#host.refresh(undefined);
        return;
    }
  }

  #receiveEphemeral(payload: Uint8Array, from: string): void {
    if (this.#closed) return;
    const decoded = decodeEphemeral(payload);
    if (decoded) this.#host.ephemeral(from, decoded.message, decoded.bytes);
  }

  /**
   * The bus is back: this node may have missed news (every document it holds reads the store),
   * and the others may have missed what it failed to publish meanwhile (they are told to).
   */
  #resumed(): void {
    if (this.#closed) return;
    this.#host.refresh(undefined);
    const unpublished = [...this.#unpublished];
    const overflow = this.#unpublishedOverflow;
    this.#unpublished.clear();
    this.#unpublishedOverflow = false;
    if (overflow) this.#publish(undefined, { t: "a" }, "changed");
    for (const [id, what] of unpublished) {
      if (what === "deleted") this.#publish(id, { t: "d", id }, what);
      else if (!overflow) this.#publish(id, { t: "r", id }, what);
    }
  }

  /**
   * Publishes without making anyone wait: a failure never fails the round whose news it is. It
   * is reported, and remembered (while the bus is down) to be made up for on resume.
   */
  #publish(
    documentId: string | undefined,
    message: NodeMessage,
    what: "changed" | "deleted",
  ): void {
    if (this.#closed) return;
    this.#bus.publish(documentTopic, encodeNodeMessage(message)).catch((error: unknown) => {
      // Closed: the server is shutting down (it closes the bus after the hub); nothing to tell.
      if (isSynclineError(error, "ERR_BUS_CLOSED")) return;
      const context =
        documentId === undefined
          ? "telling the other nodes to refresh every automerge document"
          : `telling the other nodes of automerge document ${documentId}`;
      this.#host.observer.error?.(error, context);
      if (!isSynclineError(error, "ERR_BUS_UNAVAILABLE")) return;
      if (documentId === undefined) this.#unpublishedOverflow = true;
      else this.#remember(documentId, what);
    });
  }

  #remember(documentId: string, what: "changed" | "deleted"): void {
    if (this.#unpublished.get(documentId) === "deleted") return;
    this.#unpublished.set(documentId, what);
    if (this.#unpublished.size <= maxUnpublished) return;
    // Too many to name: the others refresh everything instead (deletions are kept first).
    this.#unpublishedOverflow = true;
    for (const [id, kind] of this.#unpublished) {
      if (this.#unpublished.size <= maxUnpublished) break;
      if (kind === "changed") this.#unpublished.delete(id);
    }
  }
}
