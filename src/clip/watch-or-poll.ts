// How `syncline clip` learns of clipboard changes: the platform's change notice where the backend
// has one (Wayland's data-control, X11's XFIXES) and polling was not asked for; otherwise, or
// once the notices fail (a compositor without data-control, an X server refusing XFIXES), a poll.

import type { Clipboard, ClipWatch } from "./clipboard.js";
import { pollEvery } from "./poll-loop.js";

/** What watchOrPoll is told. */
export interface WatchOrPollOptions {
  readonly pollIntervalMs: number;
  /** Poll even where the backend has change notices (`--poll`). */
  readonly poll: boolean;
  /** A failed look, or the notices failing. */
  readonly onError: (error: unknown) => void;
  /** The notices failed and polling took over (after onError). */
  readonly onFallback: () => void;
}

/** True when `clipboard` will be watched through its change notices rather than polled. */
export function usesNotices(clipboard: Clipboard, poll: boolean): boolean {
  return clipboard.watch !== undefined && !poll;
}

/** Calls `check` after each change (notices) or every interval (poll) until stopped. */
export function watchOrPoll(
  clipboard: Clipboard,
  check: () => Promise<void>,
  options: WatchOrPollOptions,
): ClipWatch {
  let polling: ClipWatch | undefined;
  const poll = () => {
    polling ??= pollEvery(options.pollIntervalMs, check, options.onError);
  };
  let watcher: ClipWatch | undefined;
  if (clipboard.watch && usesNotices(clipboard, options.poll)) {
    watcher = clipboard.watch(
      () => void check().catch(options.onError),
      (error) => {
        options.onError(error);
        options.onFallback();
        poll();
      },
    );
  } else poll();
  return {
    stop() {
      watcher?.stop();
      polling?.stop();
    },
  };
}
