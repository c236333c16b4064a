// The built package's entry points load and expose what the README promises.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")) as {
  exports: Record<string, string>;
  engines: { node: string };
};

describe("package entry points", () => {
  it("the main entry exports the server, config and stores", async () => {
    const main = await import(pathToFileURL(resolve(root, pkg.exports["."] as string)).href);
    expect(typeof main.startServer).toBe("function");
    expect(typeof main.resolveServerConfig).toBe("function");
    expect(typeof main.openLmdbStore).toBe("function");
    expect(typeof main.createMemoryStore).toBe("function");
    expect(typeof main.connect).toBe("function");
    expect(typeof main.ChannelClient).toBe("function");
    expect(main.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("./storage and ./storage/testing resolve to built files", async () => {
    const storage = await import(
      pathToFileURL(resolve(root, pkg.exports["./storage"] as string)).href
    );
    expect(typeof storage.encodeKey).toBe("function");
    const testingPath = resolve(root, pkg.exports["./storage/testing"] as string);
    expect(readFileSync(testingPath, "utf8")).toContain("runStoreTests");
  });

  it("declares Node 20 as the minimum", () => {
    expect(pkg.engines.node).toBe(">=20");
  });
});
