// Builds dist/viewer when it is missing or older than its sources (npm run build makes it), so a
// browser test always runs the viewer as it is in src/.

import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");

/** Rebuilds the viewer bundle unless it is newer than every file it is built from. */
export async function ensureViewerBuilt(): Promise<void> {
  const built = join(root, "dist/viewer/viewer.js");
  const dirs = [join(root, "src/viewer"), join(root, "src/share/client")];
  let newest = 0;
  for (const dir of dirs) {
    for (const name of await readdir(dir))
      newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
  }
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  execFileSync(process.execPath, [join(root, "scripts/build-viewer.mjs")], { stdio: "inherit" });
}
