import { describe, expect, it } from "vitest";
import { createServerMetrics } from "./metrics.js";

/** The value of the sample `line` names in the registry's text output (what /metrics serves). */
async function scraped(metrics: ReturnType<typeof createServerMetrics>, line: string) {
  const text = await metrics.registry.metrics();
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe("the automerge tally", () => {
  it("reaches /metrics at each scrape: sync messages and bytes by direction, loads and their times", async () => {
    const metrics = createServerMetrics();
    const { tally } = metrics.automerge;
    tally.sync("in", 100);
    tally.sync("in", 50);
    tally.sync("out", 7);
    tally.load(0.002);
    tally.load(0.2);
    const total = "syncline_automerge_sync_messages_total";
    expect(await scraped(metrics, `${total}{direction="in"}`)).toBe(2);
    expect(await scraped(metrics, `${total}{direction="out"}`)).toBe(1);
    expect(await scraped(metrics, 'syncline_automerge_sync_bytes_total{direction="in"}')).toBe(150);
    expect(await scraped(metrics, "syncline_automerge_documents_loaded_total")).toBe(2);
    const buckets = "syncline_automerge_load_duration_seconds_bucket";
    expect(await scraped(metrics, `${buckets}{le="0.0025"}`)).toBe(1);
    expect(await scraped(metrics, `${buckets}{le="0.5"}`)).toBe(2);
    // Counted once: a second scrape adds nothing new.
    tally.sync("in", 1);
    expect(await scraped(metrics, `${total}{direction="in"}`)).toBe(3);
    expect(await scraped(metrics, "syncline_automerge_documents_loaded_total")).toBe(2);
  });

  it("holds a bounded number of load times between scrapes", async () => {
    const metrics = createServerMetrics();
    for (let i = 0; i < 10_000; i++) metrics.automerge.tally.load(0.001);
    // Nobody scraped: all but the last partial batch went to the histogram already.
    expect(metrics.automerge.tally.heldLoads).toBeLessThan(4096);
    expect(await scraped(metrics, "syncline_automerge_documents_loaded_total")).toBe(10_000);
  });
});
