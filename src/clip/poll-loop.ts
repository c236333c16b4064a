// Polling the clipboard where the platform gives no change notice: one look, then a pause of the
// interval, then the next. Unlike a fixed-rate timer, a look slowed down by the clipboard tool (a
// large item, a busy owner) never has another one started beside it or queued behind it.

import type { ClipWatch } from "./clipboard.js";

/**
 * Calls `look` now and then `intervalMs` after each call settled, until stopped. A rejected look
 * goes to `onError`, and polling goes on.
 */
export function pollEvery(
  intervalMs: number,
  look: () => Promise<void>,
  onError: (error: unknown) => void,
): ClipWatch {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    timer = undefined;
    if (stopped) return;
    look()
      .catch(onError)
      .finally(() => {
        if (!stopped) timer = setTimeout(next, intervalMs);
      });
  };
  timer = setTimeout(next, intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
