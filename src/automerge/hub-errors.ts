// The errors the document hub ends a peer's socket with; each names the document and carries
// the close code the socket uses (see docs/protocol.md, close codes of the automerge endpoint).

import { createError, type SynclineError } from "../protocol/errors.js";

/** A sync that would grow the document past the configured limit: close 4413. */
export function documentTooLarge(documentId: string, limit: number): SynclineError {
  return createError(
    "ERR_DOCUMENT_TOO_LARGE",
    `automerge sync: document ${documentId} would exceed the limit of ${limit} bytes`,
    { closeCode: 4413 },
  );
}

/** The change could not be made durable, so it was not acknowledged: close 1011. */
export function notSaved(documentId: string, cause: unknown): SynclineError {
  return createError(
    "ERR_STORE_WRITE",
    `automerge sync: document ${documentId} could not be saved`,
    { closeCode: 1011, cause },
  );
}

/** The same peer id joined on a newer socket: the older one closes with 4409. */
export function replacedPeer(peerId: string): SynclineError {
  return createError("ERR_AUTOMERGE_PROTOCOL", `peer ${peerId} joined again on a new socket`, {
    closeCode: 4409,
  });
}

/** Something failed that is not the peer's fault: close 1011. */
export function internalError(documentId: string, cause: unknown): SynclineError {
  return createError(
    "ERR_UNEXPECTED",
    `automerge sync: document ${documentId} failed unexpectedly`,
    { closeCode: 1011, cause },
  );
}

/** Sync data Automerge cannot read: close 4400. */
export function badSyncData(documentId: string, cause: unknown): SynclineError {
  return createError(
    "ERR_AUTOMERGE_MESSAGE",
    `automerge sync: the sync data for document ${documentId} is not a valid sync message`,
    { closeCode: 4400, cause },
  );
}
