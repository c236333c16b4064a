// syncline's library entry: embed the server, open stores, and reuse the building blocks.

export {
  ChannelClient,
  type IncomingPayload,
  type PayloadSink,
  type PayloadSource,
  type ReceivedPayload,
} from "./channels/channel-client.js";
export { type ErrorCode, type ErrorSpec, errorTable } from "./protocol/error-table.js";
export { createError, isSynclineError, SynclineError } from "./protocol/errors.js";
export { type ExitCode, exitCodes } from "./protocol/exit-codes.js";
export {
  type ConfigSources,
  resolveServerConfig,
  type ServerConfig,
  serverConfig,
  serverSettings,
} from "./server/config.js";
export type { HttpRequest, HttpResponse, RouteHandler } from "./server/http-router.js";
export { type ServerOptions, type SynclineServer, startServer } from "./server/server.js";
export type { UpgradeDecision, WebSocketEndpoint } from "./server/upgrade-router.js";
export { version } from "./server/version.js";
export * from "./storage/index.js";
export * from "./transport/index.js";
