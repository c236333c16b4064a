import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { guardStdout } from "./io.js";

/** A stdout whose every write fails with EPIPE, as a pipe whose reader has gone. */
function brokenPipe(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    },
  });
}

describe("guardStdout", () => {
  it("takes a stdout write error as SIGPIPE for the signal handlers, once, and says stdout closed", async () => {
    const signals: string[] = [];
    const removed: string[] = [];
    const io = guardStdout({
      stdout: brokenPipe(),
      stderr: new PassThrough(),
      env: {},
      onSignal: () => () => removed.push("base"),
    });
    const off = io.onSignal((signal) => signals.push(signal));
    expect(io.stdoutClosed).toBe(false);
    io.stdout.write("first\n");
    io.stdout.write("second\n");
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals).toEqual(["SIGPIPE"]);
    expect(io.stdoutClosed).toBe(true);
    off();
    expect(removed).toEqual(["base"]);
  });

  it("tells a handler removed before the error nothing", async () => {
    const signals: string[] = [];
    const io = guardStdout({
      stdout: brokenPipe(),
      stderr: new PassThrough(),
      env: {},
      onSignal: () => () => {},
    });
    io.onSignal((signal) => signals.push(signal))();
    io.stdout.write("x\n");
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals).toEqual([]);
    expect(io.stdoutClosed).toBe(true);
  });
});
