// syncline/client: everything a Node program needs to talk to a syncline server — publish and
// watch live shares, sync one Automerge document once, send and receive payloads over the
// authenticated transport — with the Node helpers those clients take (Unix sockets, extra CAs)
// and the errors they raise. The server itself is the package's main entry (`syncline`).

// One-shot Automerge sync with an automerge-repo sync server (ours or another).
export { type SyncDocumentResult, syncDocument } from "./automerge/client/sync-client.js";
export type { SyncDocumentOptions } from "./automerge/client/sync-options.js";
// Watching a share, its frames and items, SynclineError: the browser entry, which runs in Node too.
export * from "./browser.js";
// The authenticated transport (`/wire`) and the channels over it.
export {
  ChannelClient,
  type IncomingPayload,
  type PayloadSink,
  type PayloadSource,
  type ReceivedPayload,
  type ReceiveOptions,
  type SendReceipt,
} from "./channels/channel-client.js";
// The error table and exit codes, to map a SynclineError's code to what it means.
export { type ErrorSpec, errorTable } from "./protocol/error-table.js";
export { type ExitCode, exitCodes } from "./protocol/exit-codes.js";
export type { DroppedItem } from "./share/client/session-batches.js";
// Live shares: the publisher's HTTP client and queue.
export {
  type CreatedShare,
  createShareHttp,
  type FetchLike,
  type NamedItem,
  type ShareHttp,
  type ShareHttpOptions,
  type SyncOutcome,
} from "./share/client/share-http.js";
export {
  type CloseResult,
  createShareQueue,
  type QueuedItems,
  type ShareQueue,
} from "./share/client/share-queue.js";
export type { ShareQueueEvents } from "./share/client/share-queue-events.js";
export type {
  ShareCredentials,
  ShareQueueOptions,
  ShareRecords,
} from "./share/client/share-queue-options.js";

// Node helpers: a fetch and a WebSocket class for a server address (Unix sockets, extra CAs).
export { webSocketClassFor } from "./transport/dial-websocket.js";
export {
  createHttpFetch,
  type HttpFetchInit,
  type HttpFetchOptions,
  type HttpFetchResponse,
} from "./transport/http-fetch.js";
export * from "./transport/index.js";
export type { RetryInfo } from "./transport/retry.js";
