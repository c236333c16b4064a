// The built package's entry points load, have their type declarations, and expose what the
// README promises, each symbol from one entry: `syncline` the server, config, stores and errors;
// `syncline/client` the clients; `syncline/browser` the viewer client for web pages.

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
type Conditions = { types: string; default: string };
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
  exports: Record<string, Conditions | string>;
  engines: { node: string };
};

const entry = (name: string) => pkg.exports[name] as Conditions;
const load = (name: string) =>
  import(pathToFileURL(resolve(root, entry(name).default)).href) as Promise<
    Record<string, unknown>
  >;
const functions = (module: Record<string, unknown>, names: string[]) =>
  Object.fromEntries(names.map((name) => [name, typeof module[name]]));
const allFunctions = (names: string[]) => Object.fromEntries(names.map((n) => [n, "function"]));

const serverNames = ["startServer", "resolveServerConfig", "serverConfig", "openLmdbStore"];
const clientNames = [
  "createShareQueue",
  "createShareHttp",
  "createViewerClient",
  "viewerSocketUrl",
  "syncDocument",
  "connect",
  "WireClient",
  "ChannelClient",
  "parseServerAddress",
  "createHttpFetch",
  "webSocketClassFor",
];
const errorNames = ["SynclineError", "isSynclineError"];

describe("package entry points", () => {
  it("every entry but package.json has built types and code", () => {
    const entries = Object.keys(pkg.exports).filter((name) => name !== "./package.json");
    expect(entries).toEqual([
      ".",
      "./client",
      "./browser",
      "./storage",
      "./storage/testing",
      "./bus",
      "./bus/testing",
    ]);
    for (const name of entries) {
      const { types, default: code } = entry(name);
      expect(types, name).toMatch(/\.d\.ts$/);
      expect(existsSync(resolve(root, types)), types).toBe(true);
      expect(existsSync(resolve(root, code)), code).toBe(true);
    }
  });

  it("the main entry exports the server, config, stores and errors, not the clients", async () => {
    const main = await load(".");
    expect(functions(main, [...serverNames, "createMemoryStore", ...errorNames])).toEqual(
      allFunctions([...serverNames, "createMemoryStore", ...errorNames]),
    );
    expect(main.errorTable).toHaveProperty("ERR_INVALID_OPTION");
    expect(main.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(clientNames.filter((name) => name in main)).toEqual([]);
  });

  it("./client exports the clients, the Node helpers and the errors, not the server", async () => {
    const client = await load("./client");
    expect(functions(client, [...clientNames, ...errorNames])).toEqual(
      allFunctions([...clientNames, ...errorNames]),
    );
    expect(client.exitCodes).toHaveProperty("usage", 2);
    expect(serverNames.filter((name) => name in client)).toEqual([]);
    // One error class across the entries: an error from a client is a SynclineError of `syncline`.
    expect(client.SynclineError).toBe((await load(".")).SynclineError);
  });

  it("./browser exports the viewer client and the errors only", async () => {
    const browser = await load("./browser");
    expect(Object.keys(browser).sort()).toEqual([
      "SynclineError",
      "createViewerClient",
      "finalViewerStatuses",
      "isSynclineError",
      "viewerSocketUrl",
    ]);
  });

  it("./storage and ./storage/testing resolve to built files", async () => {
    const storage = await load("./storage");
    expect(typeof storage.encodeKey).toBe("function");
    const testingPath = resolve(root, entry("./storage/testing").default);
    expect(readFileSync(testingPath, "utf8")).toContain("runStoreTests");
  });

  it("./bus and ./bus/testing resolve to built files", async () => {
    const bus = await load("./bus");
    expect(typeof bus.createMemoryBusNetwork).toBe("function");
    expect(typeof bus.openRedisBus).toBe("function");
    const testingPath = resolve(root, entry("./bus/testing").default);
    expect(readFileSync(testingPath, "utf8")).toContain("runBusTests");
  });

  it("declares Node 20 as the minimum", () => {
    expect(pkg.engines.node).toBe(">=20");
  });
});
