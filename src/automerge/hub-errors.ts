// The errors the document hub ends a peer's socket with; each names the document. Their close
// codes are the error table's (see docs/errors.md, close codes of the automerge endpoint).

import { createError, type SynclineError } from "../protocol/errors.js";

/** A sync that would grow the document past the configured limit: close 4413. */
export function documentTooLarge(documentId: string, limit: number): SynclineError {
  return createError(
    "ERR_DOCUMENT_TOO_LARGE",
    `automerge sync: document ${documentId} would exceed the limit of ${limit} bytes`,
  );
}

/** The change could not be made durable, so it was not acknowledged: close 1011. */
export function notSaved(documentId: string, cause: unknown): SynclineError {
  return createError(
    "ERR_STORE_WRITE",
    `automerge sync: document ${documentId} could not be saved`,
    { cause },
  );
}

/** The same peer id joined on a newer socket: the older one closes with 4409. */
export function replacedPeer(peerId: string): SynclineError {
  return createError("ERR_AUTOMERGE_PEER_REPLACED", `peer ${peerId} joined again on a new socket`);
}

/** Something failed that is not the peer's fault: close 1011. */
export function internalError(documentId: string, cause: unknown): SynclineError {
  return createError(
    "ERR_UNEXPECTED",
    `automerge sync: document ${documentId} failed unexpectedly`,
    { cause },
  );
}

/** Sync data Automerge cannot read: close 4400. */
export function badSyncData(documentId: string, cause: unknown): SynclineError {
  return createError(
    "ERR_AUTOMERGE_MESSAGE",
    `automerge sync: the sync data for document ${documentId} is not a valid sync message`,
    { cause },
  );
}

/** The document was deleted through the admin API: its peers' sockets close with 4410. */
export function documentDeleted(documentId: string): SynclineError {
  return createError(
    "ERR_DOCUMENT_DELETED",
    `automerge sync: document ${documentId} was deleted by the server's administrator`,
  );
}
