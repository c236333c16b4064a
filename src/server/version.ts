// The package version, read once from package.json: two levels up from src/server and
// dist/server, three from build/src/server (the benchmark build).

import { existsSync, readFileSync } from "node:fs";

function readVersion(): string {
  for (const relative of ["../../package.json", "../../../package.json"]) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url))
      return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  }
  throw new Error(`syncline: package.json not found above ${import.meta.url}`);
}

/** syncline's version, as in package.json. */
export const version: string = readVersion();
