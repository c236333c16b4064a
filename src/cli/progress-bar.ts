// A one-line progress bar for transfers on a terminal: redrawn in place at most every 100 ms,
// with bytes, percentage, rate and ETA; never drawn when the output is not a TTY.

import type { Writable } from "node:stream";

/** Where and how the bar draws. */
export interface ProgressBarOptions {
  /** The stream to draw on (stderr, so stdout can carry the payload). */
  readonly stream: Writable & { isTTY?: boolean; columns?: number };
  /** A label before the bar, e.g. "send" or the file name. */
  readonly label: string;
  /** Total bytes, when known. */
  readonly total: number | undefined;
  /** The clock, in ms; injectable for tests. */
  readonly now?: () => number;
  /** Least time between redraws, in ms. Default 100. */
  readonly intervalMs?: number;
}

/** A running bar: `update` as bytes move, `finish` once at the end. */
export interface ProgressBar {
  update(bytes: number): void;
  finish(): void;
}

/** Creates a bar; on a non-TTY stream it draws nothing at all. */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const { stream, label, total } = options;
  if (!stream.isTTY) return { update() {}, finish() {} };
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 100;
  const started = now();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let current = 0;

  const draw = () => {
    const elapsed = Math.max((now() - started) / 1000, 0.001);
    const line = renderProgress(label, current, total, current / elapsed, stream.columns ?? 80);
    stream.write(`\r${line}\x1b[K`);
  };
  return {
    update(bytes) {
      current = bytes;
      if (now() - lastDraw < intervalMs) return;
      lastDraw = now();
      draw();
    },
    finish() {
      draw();
      stream.write("\n");
    },
  };
}

/** The bar's text for a given state (exported for tests). */
export function renderProgress(
  label: string,
  bytes: number,
  total: number | undefined,
  bytesPerSecond: number,
  columns: number,
): string {
  const rate = `${formatBytes(bytesPerSecond)}/s`;
  if (total === undefined || total === 0) return `${label} ${formatBytes(bytes)} ${rate}`;
  const fraction = Math.min(bytes / total, 1);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const remaining =
    bytesPerSecond > 0 ? (total - bytes) / bytesPerSecond : Number.POSITIVE_INFINITY;
  const eta = Number.isFinite(remaining) ? `eta ${formatDuration(remaining)}` : "eta --";
  const text = `${percent} ${formatBytes(bytes)}/${formatBytes(total)} ${rate} ${eta}`;
  const width = Math.max(10, Math.min(40, columns - label.length - text.length - 4));
  const filled = Math.round(fraction * width);
  return `${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}`;
}

/** Bytes as B, KiB, MiB or GiB with one decimal. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s`;
}
