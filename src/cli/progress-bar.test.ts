import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgressBar, formatBytes, renderProgress } from "./progress-bar.js";

function terminal(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  let text = "";
  stream.on("data", (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

describe("progress bar", () => {
  it("formats bytes", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KiB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5.0 MiB");
  });

  it("renders percentage, sizes, rate and eta", () => {
    const line = renderProgress("send", 512 * 1024, 1024 * 1024, 256 * 1024, 100);
    expect(line).toMatch(/^send \[#+-+\] {2}50% 512\.0 KiB\/1\.0 MiB 256\.0 KiB\/s eta 2s$/);
    expect(renderProgress("recv", 10, undefined, 5, 80)).toBe("recv 10 B 5 B/s");
  });

  it("draws in place on a TTY, throttled, and ends the line", () => {
    let clock = 0;
    const out = terminal(true);
    const bar = createProgressBar({ stream: out.stream, label: "x", total: 100, now: () => clock });
    bar.update(10);
    bar.update(20); // within 100 ms: not drawn
    clock = 200;
    bar.update(100);
    bar.finish();
    const draws = out.text().split("\r").filter(Boolean);
    expect(draws).toHaveLength(3);
    expect(out.text().endsWith("\n")).toBe(true);
  });

  it("draws nothing when not a TTY", () => {
    const out = terminal(false);
    const bar = createProgressBar({ stream: out.stream, label: "x", total: 100 });
    bar.update(50);
    bar.finish();
    expect(out.text()).toBe("");
  });
});
