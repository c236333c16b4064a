// syncline's library entry: embed the server, open stores, and reuse the building blocks.

export {
  ChannelClient,
  type IncomingPayload,
  type PayloadSink,
  type PayloadSource,
  type ReceivedPayload,
} from "./channels/channel-client.js";
export {
  createError,
  type ErrorCode,
  errorCatalog,
  isSynclineError,
  SynclineError,
} from "./protocol/errors.js";
export { type ConfigSources, resolveServerConfig, type ServerConfig } from "./server/config.js";
export type { HttpRequest, HttpResponse, RouteHandler } from "./server/http-router.js";
export { type ServerOptions, type SynclineServer, startServer } from "./server/server.js";
export type { UpgradeDecision, WebSocketEndpoint } from "./server/upgrade-router.js";
export { version } from "./server/version.js";
export * from "./storage/index.js";
export * from "./transport/index.js";
