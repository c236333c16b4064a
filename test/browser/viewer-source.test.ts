// The viewer's source never parses HTML: share content reaches the DOM only as text nodes
// (src/viewer/dom.ts). viewer.test.ts renders hostile content in a real browser as well.

import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const viewerDir = resolve(import.meta.dirname, "../../src/viewer");

describe("safe rendering (source rule)", () => {
  it("no viewer module parses HTML", () => {
    const dir = viewerDir;
    const offenders = readdirSync(dir)
      .filter((name) => name.endsWith(".ts") && !name.endsWith(".test.ts"))
      .filter((name) =>
        /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment|\beval\(|new Function/.test(
          readFileSync(join(dir, name), "utf8"),
        ),
      );
    expect(offenders).toEqual([]);
  });
});
