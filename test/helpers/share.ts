// Helpers for live-share tests: JSON calls to the share API and viewer sockets that record frames.

import { WebSocket } from "ws";

/** A JSON answer: status, headers and the parsed body (or the text when it is not JSON). */
export interface JsonAnswer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary answer fields
  readonly body: any;
  readonly text: string;
}

/** Sends `body` (an object as JSON, a string as is) and reads the answer. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonAnswer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** A session id whose share id (last 8 characters) is `id`. */
export const sessionOf = (id: string) => `ses_test_${id}`;

/** Items of one session: the info, a message and `parts` parts of it. */
export function sessionItems(sessionID: string, parts = 1, text = "hello") {
  return [
    { type: "session", data: { id: sessionID, title: "a test session" } },
    { type: "message", data: { id: "msg_1", sessionID, role: "user" } },
    ...Array.from({ length: parts }, (_, i) => ({
      type: "part",
      data: { id: `prt_${i}`, messageID: "msg_1", sessionID, type: "text", text: `${text} ${i}` },
    })),
  ];
}

/** A viewer socket and everything it received. */
export interface TestViewer {
  readonly socket: WebSocket;
  // biome-ignore lint/suspicious/noExplicitAny: frames are arbitrary JSON
  readonly frames: any[];
  /** Resolves when `count` frames have arrived (rejects after `timeoutMs`). */
  // biome-ignore lint/suspicious/noExplicitAny: frames are arbitrary JSON
  waitFrames(count: number, timeoutMs?: number): Promise<any[]>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * Opens `/share_poll?<query>` and records every frame; `onText` is also told each frame's text as
 * it arrives (before any waiter wakes).
 */
export function openViewer(
  base: string,
  query: string,
  onText?: (text: string) => void,
): Promise<TestViewer> {
  const socket = new WebSocket(`${base.replace(/^http/, "ws")}/share_poll?${query}`);
  // biome-ignore lint/suspicious/noExplicitAny: frames are arbitrary JSON
  const frames: any[] = [];
  const waiters: (() => void)[] = [];
  socket.on("message", (data) => {
    const text = data.toString();
    onText?.(text);
    frames.push(JSON.parse(text));
    for (const wake of waiters.splice(0)) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  const viewer: TestViewer = {
    socket,
    frames,
    closed,
    waitFrames(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `got ${frames.length} frames, waited for ${count}: ${JSON.stringify(frames).slice(0, 500)}`,
              ),
            ),
          timeoutMs,
        );
        const check = () => {
          if (frames.length >= count) {
            clearTimeout(timer);
            resolve(frames.slice(0, count));
          } else waiters.push(check);
        };
        check();
      });
    },
  };
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(viewer));
    socket.once("unexpected-response", (_request, response) => {
      reject(
        Object.assign(new Error(`upgrade refused: ${response.statusCode}`), {
          status: response.statusCode,
        }),
      );
    });
    socket.once("error", reject);
  });
}
