// Builds the share web viewer into dist/viewer/: esbuild bundles src/viewer/main.ts (and the
// protocol and share-client code it imports) into one minified browser script, viewer.js; the
// page (index.html) and its styles (viewer.css) are copied beside it. The server serves
// dist/viewer/index.html at /s/<id> and these files at /s/assets/<file>. Nothing in the output
// refers to another origin. Run by `npm run build` after tsc.

import { copyFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src/viewer");
const out = join(root, "dist/viewer");

// Files are overwritten in place (no rm first): the browser test rebuilds the viewer alone while
// servers run from dist/. `npm run build` empties dist/ before tsc, so nothing stale is packed.
await mkdir(out, { recursive: true });

const result = await build({
  entryPoints: [join(source, "main.ts")],
  outfile: join(out, "viewer.js"),
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "iife",
  platform: "browser",
  target: "es2020",
  tsconfig: join(root, "tsconfig.viewer.json"),
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
});

// The bundle must be browser-safe: a node:* import would mean the viewer pulled in server code.
const inputs = Object.keys(result.metafile.inputs);
const nodeImports = inputs.filter((input) => input.startsWith("node:"));
if (nodeImports.length > 0) {
  throw new Error(`build-viewer: the bundle imports Node modules: ${nodeImports.join(", ")}`);
}

await copyFile(join(source, "index.html"), join(out, "index.html"));
await copyFile(join(source, "viewer.css"), join(out, "viewer.css"));

// No outside requests: the page and styles may only name /s/assets/ files and data: URLs.
for (const file of ["index.html", "viewer.css"]) {
  const text = await readFile(join(out, file), "utf8");
  const external = text.match(/(?:src|href)\s*=\s*"(?!\/s\/assets\/|data:)[^"]*"|url\((?!data:)/);
  if (external) throw new Error(`build-viewer: ${file} refers outside the server: ${external[0]}`);
}

// The size is reported (docs/operations.md states it): the page should stay small to load.
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
const gzipped = gzipSync(await readFile(join(out, "viewer.js"))).length;
console.log(
  `build-viewer: dist/viewer/viewer.js ${bytes} bytes (${gzipped} gzipped) from ${inputs.length} modules`,
);
