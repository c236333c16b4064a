// A command whose stdout the reader closed (`syncline share watch <id> | head -1`: the next write
// fails with EPIPE) ends quietly with 0 and closes its connection. Run in-process against a real
// server, so the test can see the WebSocket close while the process lives on.

import { PassThrough, Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call, sessionItems, sessionOf } from "../helpers/share.js";
import { waitUntil } from "../helpers/transport.js";

let test: TestServer | undefined;
afterEach(async () => {
  await test?.stop();
  test = undefined;
});

/** A stdout whose writes fail with EPIPE once `close()` was called, as a pipe whose reader left. */
function closingStdout() {
  const lines: string[] = [];
  let closed = false;
  const stdout = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!closed) {
        lines.push(chunk.toString());
        done();
        return;
      }
      const error = Object.assign(new Error("write EPIPE"), {
        code: "EPIPE",
        errno: -32,
        syscall: "write",
      });
      done(error);
    },
  });
  return { stdout, lines, close: () => (closed = true) };
}

function ioWith(stdout: Writable): CliIo & { err(): string } {
  const stderr = new PassThrough();
  let err = "";
  stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  return {
    stdout,
    stderr,
    env: { XDG_CONFIG_HOME: "/nonexistent", HOME: "/nonexistent" },
    onSignal: () => () => {},
    err: () => err,
  };
}

async function viewers(server: TestServer): Promise<number> {
  const metric = await server.server.metrics.share.viewers.get();
  return metric.values[0]?.value ?? 0;
}

describe("stdout closed by its reader (EPIPE)", () => {
  it("share watch ends at the next update: exit 0, no error on stderr, its WebSocket closed", async () => {
    test = await startTestServer();
    const server = test;
    const base = server.server.url;
    const id = "pipe0001";
    const sessionID = sessionOf(id);
    const created = await call(base, "POST", "/api/share", { sessionID });
    const secret = created.body.secret as string;
    await call(base, "POST", `/api/share/${id}/sync`, { secret, data: sessionItems(sessionID) });

    const out = closingStdout();
    const io = ioWith(out.stdout);
    const watching = runCli(["share", "watch", id, "--server", base], io);
    await waitUntil(() => out.lines.length > 0, "the first line of share watch");
    expect(await viewers(server)).toBe(1);
    out.close(); // `| head -1` has its line and exits

    const update = {
      type: "part",
      data: { id: "prt_9", messageID: "msg_1", sessionID, text: "x" },
    };
    await call(base, "POST", `/api/share/${id}/sync`, { secret, data: [update] });
    const started = Date.now();
    expect(await watching).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
    // No error and no stack trace; the watch's own status lines (connecting, closed) may show.
    expect(io.err()).not.toMatch(/EPIPE|error|syncline:|\n\s+at /i);
    // The command closed its viewer socket itself (this process, and so its sockets, lives on).
    const deadline = Date.now() + 5000;
    while ((await viewers(server)) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await viewers(server)).toBe(0);
  });
});
