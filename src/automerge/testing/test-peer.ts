// A client peer for hub tests: drives the JS Automerge API against a DocumentHub, as a Repo would.

import * as A from "@automerge/automerge";
import type { RepoMessage } from "../../protocol/automerge-messages.js";
import type { SynclineError } from "../../protocol/errors.js";
import type { Store } from "../../storage/store.js";
import type { DocumentHub } from "../document-hub.js";
import { DocumentStore } from "../document-store.js";
import { createGroupCommit } from "../group-commit.js";

export type Items = { items: number[] };
/** The heads of what `store` holds of the document (undefined when it holds nothing). */
export async function storedHeads(store: Store, documentId: string) {
  const loaded = await new DocumentStore(store, createGroupCommit(store)).load(documentId);
  return loaded?.doc.getHeads();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client peer driving the JS Automerge API against the hub, as a Repo would. */
export class TestPeer {
  doc: A.Doc<Items>;
  state = A.initSyncState();
  readonly received: RepoMessage[] = [];
  failure: SynclineError | undefined;
  /** What `admits` answers: false plays a peer whose output is over budget. */
  admitting = true;

  constructor(
    readonly hub: DocumentHub,
    readonly peerId: string,
    readonly documentId: string,
    doc: A.Doc<Items> = A.init(),
  ) {
    this.doc = doc;
    hub.attach(this);
  }

  send(message: RepoMessage): void {
    this.received.push(message);
    if (message.type === "sync") {
      [this.doc, this.state] = A.receiveSyncMessage(this.doc, this.state, message.data);
    }
  }

  admits(_bytes: number): boolean {
    return this.admitting;
  }

  fail(error: SynclineError): void {
    this.failure = error;
  }

  /** Sends what the sync protocol wants to send now; true when there was something. */
  push(type: "sync" | "request" = "sync"): boolean {
    const [state, data] = A.generateSyncMessage(this.doc, this.state);
    this.state = state;
    if (!data) return false;
    const { peerId: senderId, documentId } = this;
    this.hub.sync(this, { type, senderId, targetId: "server", documentId, data });
    return true;
  }

  /** Exchanges messages until neither side has anything to say (for `quietRounds` × 10 ms). */
  async settle(quietRounds = 5): Promise<void> {
    for (let quiet = 0; quiet < quietRounds; ) {
      const before = this.received.length;
      const sent = this.push();
      await sleep(10);
      quiet = sent || this.received.length > before ? 0 : quiet + 1;
    }
  }
}
