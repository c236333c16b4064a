// X11's own notice of clipboard changes: the XFIXES extension tells a client each time the
// CLIPBOARD selection gets a new owner (a copy, in any application) or loses it (its owner quit).
// With it `syncline clip` reads the clipboard only after a change, instead of at every poll: no
// CPU while nothing is copied, and no read to collide with a paste (xclip serves a large item to
// one reader at a time). Every X server of the last twenty years has XFIXES; where the
// connection or the extension fails, the caller hears once and polls instead.
//
// The connection goes through the `x11` package (the X11 protocol in JavaScript): one socket,
// no tool to spawn. It reads XAUTHORITY (or ~/.Xauthority) from this process's environment.

import x11, { type XClient, type XEvent } from "x11";
import { createError } from "../protocol/errors.js";
import type { ClipWatch } from "./clipboard.js";

/** XFIXES selection events: a new owner, the owner's window destroyed, its client gone. */
const everySelectionEvent = 1 | 2 | 4;

/**
 * Calls `onChange` after each change of the CLIPBOARD selection on `display`, and once when the
 * watch is in place (a copy made while it was being set up is not missed). `onError` hears once
 * if the watch cannot start or ends (the X server went away); nothing is called after `stop()`.
 */
export function watchX11Clipboard(
  display: string | undefined,
  onChange: () => void,
  onError: (error: Error) => void = () => {},
): ClipWatch {
  let stopped = false;
  let client: XClient | undefined;
  const fail = (what: string, cause?: unknown) => {
    if (stopped) return;
    stopped = true;
    client?.terminate();
    const said = cause instanceof Error ? `: ${cause.message}` : cause ? `: ${String(cause)}` : "";
    onError(
      createError(
        "ERR_CLIPBOARD",
        `clipboard: cannot watch the X11 clipboard on display ${display ?? "(DISPLAY unset)"}: ${what}${said}`,
        { cause },
      ),
    );
  };
  /** Runs a step of the setup; the package may throw from inside its own callbacks. */
  const step = (what: string, run: () => void) => {
    try {
      if (!stopped) run();
    } catch (error) {
      fail(what, error);
    }
  };

  if (display === undefined || display === "") {
    queueMicrotask(() => fail("DISPLAY is not set"));
  } else {
    step("connecting", () => {
      x11.createClient({ display }, (error, connected) =>
        step("connecting", () => {
          if (error) return fail("cannot connect", error);
          const own = connected.client;
          client = own;
          own.on("error", (cause: unknown) => fail("the connection failed", cause));
          own.on("end", () => fail("the X server closed the connection"));
          own.require("fixes", (error, fixes) =>
            step("XFIXES", () => {
              if (error || fixes === undefined) return fail("no XFIXES extension", error);
              own.InternAtom(false, "CLIPBOARD", (error, clipboard) =>
                step("CLIPBOARD", () => {
                  if (error) return fail("cannot look up CLIPBOARD", error);
                  own.on("event", (event: XEvent) => {
                    if (!stopped && event.name === "SelectionNotify") {
                      if (event.selection === clipboard) onChange();
                    }
                  });
                  const root = connected.screen[0]?.root;
                  if (root === undefined) return fail("the display has no screen");
                  fixes.SelectSelectionInput(root, clipboard, everySelectionEvent);
                  onChange();
                }),
              );
            }),
          );
        }),
      );
    });
  }
  return {
    stop() {
      stopped = true;
      client?.terminate();
    },
  };
}
