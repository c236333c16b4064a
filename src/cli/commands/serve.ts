// `syncline serve`: resolves the configuration, runs the server, prints where it listens, and
// shuts down gracefully on SIGINT/SIGTERM (a second signal cuts the shutdown short).

import { resolveServerConfig, type ServerFlags, serverFileKeys } from "../../server/config.js";
import { findConfigFile, loadConfigFile } from "../../server/config-file.js";
import { type SynclineServer, startServer } from "../../server/server.js";
import { createDeferred } from "../../util/deferred.js";
import { ExitError, exitCodes } from "../exit-error.js";
import { type CliIo, writeJson } from "../io.js";

/** The options commander parsed for `serve` (all strings, validated by the config). */
export interface ServeOptions {
  readonly host?: string;
  readonly port?: string;
  readonly data?: string;
  readonly unix?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly logLevel?: string;
  readonly durability?: string;
  readonly shutdownTimeout?: string;
  readonly authorizedKeys?: string;
  readonly hostKey?: string;
  readonly retainBytes?: string;
  readonly heartbeat?: string;
  readonly heartbeatGrace?: string;
  readonly automergeToken?: string;
  readonly automergeMemoryBudget?: string;
  readonly automergeIdleEvict?: string;
  readonly automergeMaxMessage?: string;
  readonly automergeMaxDocument?: string;
  readonly automergeWorkerThreshold?: string;
  readonly automergeWorkerThreads?: string;
  readonly shareMaxBody?: string;
  readonly shareMaxItem?: string;
  readonly shareMaxBytes?: string;
  readonly shareMemoryBudget?: string;
  readonly shareViewerMaxBuffered?: string;
  readonly shareViewerFlush?: string;
  readonly shareIdleEvict?: string;
  readonly shareCatchupFrames?: string;
  readonly shareCatchupBytes?: string;
  readonly sharePublicUrl?: string;
  readonly config?: string;
  readonly json?: boolean;
}

/** Runs the server until a signal; resolves once it has shut down. */
export async function serveCommand(options: ServeOptions, io: CliIo): Promise<void> {
  const found = findConfigFile(options.config, io.env);
  const file = found && loadConfigFile(found.path, serverFileKeys);
  const flags: ServerFlags = {
    host: options.host,
    port: options.port,
    dataDir: options.data,
    unixSocket: options.unix,
    tlsCert: options.tlsCert,
    tlsKey: options.tlsKey,
    logLevel: options.logLevel,
    durability: options.durability,
    shutdownTimeoutMs: options.shutdownTimeout,
    authorizedKeys: options.authorizedKeys,
    hostKey: options.hostKey,
    retainBytes: options.retainBytes,
    heartbeatMs: options.heartbeat,
    heartbeatGraceMs: options.heartbeatGrace,
    automergeToken: options.automergeToken,
    automergeMemoryBudget: options.automergeMemoryBudget,
    automergeIdleEvictMs: options.automergeIdleEvict,
    automergeMaxMessageBytes: options.automergeMaxMessage,
    automergeMaxDocumentBytes: options.automergeMaxDocument,
    automergeWorkerThreshold: options.automergeWorkerThreshold,
    automergeWorkerThreads: options.automergeWorkerThreads,
    shareMaxBodyBytes: options.shareMaxBody,
    shareMaxItemBytes: options.shareMaxItem,
    shareMaxBytes: options.shareMaxBytes,
    shareMemoryBudget: options.shareMemoryBudget,
    shareViewerMaxBufferedBytes: options.shareViewerMaxBuffered,
    shareViewerFlushMs: options.shareViewerFlush,
    shareIdleEvictMs: options.shareIdleEvict,
    shareCatchupFrames: options.shareCatchupFrames,
    shareCatchupBytes: options.shareCatchupBytes,
    sharePublicUrl: options.sharePublicUrl,
  };
  const config = resolveServerConfig({ flags, env: io.env, ...(file ? { file } : {}) });

  // Signals are taken before the server starts, so one that arrives during startup (or right
  // after the start line) still shuts down gracefully rather than killing the process.
  const stopRequested = createDeferred<NodeJS.Signals>();
  const forced = createDeferred<never>();
  let signals = 0;
  const removeHandler = io.onSignal((signal) => {
    signals += 1;
    if (signals === 1) stopRequested.resolve(signal);
    else
      forced.reject(
        new ExitError(
          exitCodes.unexpected,
          "ERR_SHUTTING_DOWN",
          `serve: ${signal} again, shutdown cut short`,
        ),
      );
  });
  try {
    const server = await startServer({ config });
    announce(server, options, io);
    const signal = await stopRequested.promise;
    server.logger.info({ signal }, "shutting down");
    await Promise.race([server.close(), forced.promise]);
  } finally {
    removeHandler();
  }
}

function announce(server: SynclineServer, options: ServeOptions, io: CliIo): void {
  if (options.json) {
    writeJson(io, {
      ok: true,
      url: server.url,
      port: server.port,
      unix: server.unixPath ?? null,
      hostKey: server.hostFingerprint ?? null,
    });
    return;
  }
  io.stdout.write(`listening on ${server.url}\n`);
  if (server.unixPath !== undefined) io.stdout.write(`listening on unix:${server.unixPath}\n`);
  if (server.hostFingerprint !== undefined) io.stdout.write(`host key ${server.hostFingerprint}\n`);
}
