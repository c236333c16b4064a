// syncline/browser: what a web page needs to watch a live share — the viewer client, the frames
// and items it yields, and the error class it reports with. Bundleable for browsers as it is:
// nothing imported from here, however indirectly, may import `node:*`, `ws` or any other Node-only
// package (test/import-rules.test.ts walks the imports and fails on one). syncline/client
// exports all of this too, for Node programs.

export type { ErrorCode } from "./protocol/error-table.js";
export { isSynclineError, SynclineError } from "./protocol/errors.js";
export type { SnapshotFrame, StateFrame, UpdateFrame } from "./protocol/share-frames.js";
export type { ShareId, ShareItem, ShareKey } from "./protocol/share-items.js";
export { createViewerClient } from "./share/client/viewer-client.js";
export {
  finalViewerStatuses,
  type ViewerClient,
  type ViewerClientEvents,
  type ViewerClientOptions,
  type ViewerRetry,
  type ViewerSocket,
  type ViewerSocketConstructor,
  type ViewerStatus,
} from "./share/client/viewer-client-api.js";
export { viewerSocketUrl } from "./share/client/viewer-urls.js";
