// `npm run bench [-- --quick] [-- --only NAME]`: runs the benchmarks side by side with their
// peers and prints, and saves under bench-results/, medians and ratios.

import { mkdirSync, writeFileSync } from "node:fs";
import { streamThroughput } from "./stream-throughput.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

const benchmarks: Record<string, () => Promise<object>> = {
  "stream-throughput": () => streamThroughput((quick ? 256 : 1024) * 1024 * 1024, 3),
};

mkdirSync("bench-results", { recursive: true });
for (const [name, run] of Object.entries(benchmarks)) {
  if (only !== undefined && only !== name) continue;
  process.stderr.write(`bench: ${name}${quick ? " (quick)" : ""}...\n`);
  const result = await run();
  const text = JSON.stringify(
    { ...result, node: process.version, date: new Date().toISOString() },
    null,
    2,
  );
  writeFileSync(`bench-results/${name}.json`, `${text}\n`);
  process.stdout.write(`${text}\n`);
}
