// Keeps docs/errors.md complete: every error code the code can raise is documented.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { errorCatalog } from "../src/protocol/errors.js";

const docs = (name: string) => readFileSync(resolve(import.meta.dirname, "../docs", name), "utf8");

describe("docs", () => {
  it("errors.md documents every error code", () => {
    const text = docs("errors.md");
    const missing = Object.keys(errorCatalog).filter((code) => !text.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it("errors.md documents no code that does not exist", () => {
    const documented = [...docs("errors.md").matchAll(/`(ERR_[A-Z0-9_]+)`/g)].map(
      (m) => m[1] ?? "",
    );
    expect(documented.filter((code) => !Object.hasOwn(errorCatalog, code))).toEqual([]);
  });
});
