// A share viewer socket for hub tests: records the parsed frames it is sent, never falls behind.

import type { FrameBatch } from "../../src/share/encoded-frame.js";
import type { ViewerSocket } from "../../src/share/viewer-fanout.js";

/** A ViewerSocket and the frames (parsed JSON) sent to it so far. */
export function recordingViewer(): { socket: ViewerSocket; frames: Record<string, unknown>[] } {
  const frames: Record<string, unknown>[] = [];
  const socket: ViewerSocket = {
    send: (batch: FrameBatch) => {
      for (const frame of batch.frames) frames.push(JSON.parse(frame.text.toString()));
    },
    bufferedAmount: () => 0,
    close: () => {},
  };
  return { socket, frames };
}
