// `syncline serve`: resolves the configuration, runs the server, prints where it listens, and
// shuts down gracefully on SIGINT/SIGTERM (a second signal cuts the shutdown short).

import { createError } from "../../protocol/errors.js";
import { resolveServerConfig, serverSettings } from "../../server/config.js";
import { fileTable, readConfigFile } from "../../server/config-file.js";
import { type SynclineServer, startServer } from "../../server/server.js";
import { createDeferred } from "../../util/deferred.js";
import { configTables } from "../client-settings.js";
import { type CliIo, writeJson } from "../io.js";
import { settingFlags } from "../setting-options.js";

/** The options commander parsed for `serve`: the settings' flags, --config and --json. */
export interface ServeOptions extends Readonly<Record<string, unknown>> {
  readonly config?: string;
  readonly json?: boolean;
}

/** Runs the server until a signal; resolves once it has shut down. */
export async function serveCommand(options: ServeOptions, io: CliIo): Promise<void> {
  const file = readConfigFile(options.config, io.env, configTables);
  const config = resolveServerConfig({
    flags: settingFlags(serverSettings, options),
    env: io.env,
    file: fileTable(file, "server"),
  });

  // Signals are taken before the server starts, so one that arrives during startup (or right
  // after the start line) still shuts down gracefully rather than killing the process.
  const stopRequested = createDeferred<NodeJS.Signals>();
  const forced = createDeferred<never>();
  let signals = 0;
  const removeHandler = io.onSignal((signal) => {
    signals += 1;
    if (signals === 1) stopRequested.resolve(signal);
    else
      forced.reject(createError("ERR_SHUTTING_DOWN", `serve: ${signal} again, shutdown cut short`));
  });
  let removeLastResort: (() => void) | undefined;
  try {
    const server = await startServer({ config });
    removeLastResort = keepServingOnUnhandledRejection(server, io);
    announce(server, options, io);
    const signal = await stopRequested.promise;
    server.logger.info({ signal }, "shutting down");
    await Promise.race([server.close(), forced.promise]);
  } finally {
    removeLastResort?.();
    removeHandler();
  }
}

/**
 * The last resort: a rejection nobody handled is logged and the server goes on. Every store
 * failure is handled where it happens (a 503, a close code); this only keeps a rejection missed
 * there, or left by a dependency, from ending a server that others depend on. The log line
 * ("unhandled rejection") is what the tests look for: they fail if it ever appears.
 */
function keepServingOnUnhandledRejection(server: SynclineServer, io: CliIo) {
  return io.onUnhandledRejection?.((reason) => {
    server.logger.error({ err: reason }, "unhandled rejection; the server keeps running");
  });
}

function announce(server: SynclineServer, options: ServeOptions, io: CliIo): void {
  if (options.json) {
    writeJson(io, {
      ok: true,
      url: server.url,
      port: server.port,
      unix: server.unixPath ?? null,
      hostKey: server.hostFingerprint ?? null,
      ...(server.metricsUrl === undefined ? {} : { metrics: `${server.metricsUrl}/metrics` }),
    });
    return;
  }
  io.stdout.write(`listening on ${server.url}\n`);
  if (server.unixPath !== undefined) io.stdout.write(`listening on unix:${server.unixPath}\n`);
  if (server.metricsUrl !== undefined) io.stdout.write(`metrics on ${server.metricsUrl}/metrics\n`);
  if (server.hostFingerprint !== undefined) io.stdout.write(`host key ${server.hostFingerprint}\n`);
}
