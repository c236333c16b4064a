// Formatting of the values the viewer shows: cost, token counts, times, durations, JSON and long
// text. Pure; numbers are locale-independent, times are in the reader's own time zone and locale
// (Intl), with the zone named, so a reader anywhere sees when things happened for them.

/** A cost in dollars: "$0.00" for nothing, four decimals under a cent, two above. */
export function formatCost(dollars: number): string {
  if (dollars === 0) return "$0.00";
  if (Math.abs(dollars) < 0.01) return `$${dollars.toFixed(4)}`;
  return `$${dollars.toFixed(2)}`;
}

/** A token count: exact under 10,000 (with a thousands separator), then 12.3k / 4.5M. */
export function formatTokens(count: number): string {
  if (count < 10_000) return groupThousands(Math.round(count));
  if (count < 1_000_000) return `${trimZero((count / 1000).toFixed(1))}k`;
  return `${trimZero((count / 1_000_000).toFixed(1))}M`;
}

/** Where times are shown: the reader's locale and zone unless a test names them. */
export interface TimeZoneChoice {
  readonly locale?: string;
  readonly timeZone?: string;
}

/** A time in the reader's zone, with the zone's name: "Nov 29, 2026, 09:27:05 PM EST" (en-US). */
export function formatTime(ms: number, where: TimeZoneChoice = {}): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return String(ms);
  return new Intl.DateTimeFormat(where.locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
    timeZone: where.timeZone,
  }).format(date);
}

/** A time as ISO 8601 in UTC, for `<time datetime>` and tooltips. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}

/** A duration: "850 ms", "12.3 s", "4 min 05 s". */
export function formatDuration(ms: number): string {
  if (ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trimZero((ms / 1000).toFixed(1))} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, "0")} s`;
}

/** Any value as readable text: strings as they are, everything else as indented JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Where long output is cut before "show more": characters and lines, whichever comes first. */
export const truncateLimits = { chars: 2000, lines: 30 } as const;

/** `text` cut to the limits, or undefined when it fits. */
export function truncateText(
  text: string,
  limits: { chars: number; lines: number } = truncateLimits,
): string | undefined {
  let end = Math.min(text.length, limits.chars);
  let newlines = 0;
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10 && ++newlines === limits.lines) {
      end = i;
      break;
    }
  }
  return end < text.length ? text.slice(0, end) : undefined;
}

function groupThousands(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function trimZero(fixed: string): string {
  return fixed.endsWith(".0") ? fixed.slice(0, -2) : fixed;
}
