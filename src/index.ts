// syncline's main entry: embed the server, configure it, open stores, and the errors it raises.
// The clients (live shares, the one-shot Automerge sync, the transport and channels) are
// `syncline/client`; the viewer client for web pages is `syncline/browser`.

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
