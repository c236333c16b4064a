// The clipboard suites that run real tools (Xvfb, xclip, sway, Chromium…): where one is missing,
// CI=true turns the skip into a failing test that says what to install; elsewhere the suite is
// skipped with a warning.

import { describe, it } from "vitest";

/** Whether `suite` can run; `missing` says what is not installed (undefined: nothing). */
export function toolsPresent(suite: string, missing: string | undefined): boolean {
  if (missing === undefined) return true;
  if (process.env.CI) {
    describe(suite, () => {
      it("has the tools it runs (required under CI=true)", () => {
        throw new Error(missing);
      });
    });
  } else console.warn(`${suite}: skipped: ${missing}`);
  return false;
}
