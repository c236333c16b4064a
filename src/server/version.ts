// The package version, read once from package.json (two levels up from src/server and dist/server).

import { readFileSync } from "node:fs";

/** syncline's version, as in package.json. */
export const version: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;
