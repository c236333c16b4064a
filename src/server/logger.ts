// Structured JSON logs (pino) on stderr; stdout stays free for the CLI's own output.

import { type DestinationStream, type Logger, pino } from "pino";
import type { ServerConfig } from "./config.js";

/** Creates the server's logger; tests pass their own destination to read the lines. */
export function createLogger(
  level: ServerConfig["logLevel"],
  destination: DestinationStream = pino.destination({ dest: 2, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { name: "syncline", pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
