// Reads one value from a server's /metrics (Prometheus text), for tests against a server in
// another process.

import { httpGet } from "./http.js";

/**
 * The value of `name` whose labels include `labels` at `base`/metrics (0 when the series does
 * not exist yet, as a counter never incremented).
 */
export async function readMetric(
  base: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const { body } = await httpGet(`${base}/metrics`);
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of body.split("\n")) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? "";
    if (wanted.every((pair) => labelText.split(",").includes(pair))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return 0;
}
