import { afterEach, describe, expect, it } from "vitest";
import { runTool, runToolOk, type ToolLimits } from "./run-tool.js";
import { FakeTools, isRunning } from "./testing/fake-tools.js";

const fakes: FakeTools[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.cleanup();
});

function setup(limits: Partial<ToolLimits> = {}) {
  const fake = new FakeTools();
  fakes.push(fake);
  return { fake, limits: { env: fake.env, timeoutMs: 5000, maxBytes: 1024, ...limits } };
}

describe("runTool", () => {
  it("passes the arguments as they are (no shell) and stdin, and returns stdout and the exit code", async () => {
    const { fake, limits } = setup();
    fake.tool("tool", [{ stdout: "out", stderr: " some warning \n", exit: 3 }]);
    const args = ["-t", "text/plain;charset=utf-8", "$HOME", "a b", "*"];
    const output = await runTool({ command: "tool", args, input: Buffer.from("in") }, limits);
    const [call] = fake.calls("tool");
    expect(output).toEqual({
      code: 3,
      stdout: Buffer.from("out"),
      stderr: "some warning",
      pid: call?.pid,
    });
    expect(call).toMatchObject({ argv: args, stdin: Buffer.from("in") });
  });

  it("a non-zero exit is ERR_CLIPBOARD naming the command line and quoting its stderr", async () => {
    const { fake, limits } = setup();
    fake.tool("xclip", [{ stderr: "Error: Can't open display: :9\n", exit: 1 }]);
    const call = { command: "xclip", args: ["-selection", "clipboard", "-o"] };
    await expect(runToolOk(call, limits)).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message:
        "clipboard: `xclip -selection clipboard -o` failed (exit code 1): Error: Can't open display: :9",
    });
  });

  it("a tool that is not on PATH is ERR_CLIPBOARD saying so", async () => {
    const { limits } = setup();
    await expect(
      runTool({ command: "wl-paste", args: ["--list-types"] }, limits),
    ).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message: expect.stringContaining("wl-paste is not on PATH"),
    });
  });

  it("refuses more output than maxBytes, and kills the tool", async () => {
    const { fake, limits } = setup({ maxBytes: 100 });
    fake.tool("big", [{ stdout: "y".repeat(101), hang: true }]);
    const started = Date.now();
    await expect(runTool({ command: "big", args: [] }, limits)).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message: "clipboard: `big` printed more than 100 bytes (the item size limit) and was killed",
    });
    expect(Date.now() - started).toBeLessThan(4000);
    const [call] = fake.calls("big");
    await expect.poll(() => isRunning(call?.pid ?? 0)).toBe(false);
  });

  it("takes exactly maxBytes", async () => {
    const { fake, limits } = setup({ maxBytes: 100 });
    fake.tool("full", [{ stdout: "y".repeat(100) }]);
    expect((await runToolOk({ command: "full", args: [] }, limits)).length).toBe(100);
  });

  it("kills a tool that hangs at the timeout", async () => {
    const { fake, limits } = setup({ timeoutMs: 500 });
    fake.tool("xclip", [{ stderr: "waiting for the owner\n", hang: true }]);
    const started = Date.now();
    await expect(runTool({ command: "xclip", args: ["-o"] }, limits)).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message:
        "clipboard: `xclip -o` did not finish within 500 ms and was killed: waiting for the owner",
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(490);
    const [call] = fake.calls("xclip");
    await expect.poll(() => isRunning(call?.pid ?? 0)).toBe(false);
  });

  it("a forking tool is done when it exits, though what it left behind keeps stderr open", async () => {
    const { fake, limits } = setup({ timeoutMs: 3000 });
    fake.tool("wl-copy", [{ forkMs: 2500 }]);
    const started = Date.now();
    const call = { command: "wl-copy", args: [], input: Buffer.from("x"), forks: true };
    await expect(runToolOk(call, limits)).resolves.toEqual(Buffer.alloc(0));
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("without forks, the same tool is waited for until its stderr closes", async () => {
    const { fake, limits } = setup({ timeoutMs: 800 });
    fake.tool("xclip", [{ forkMs: 2500 }]);
    await expect(runTool({ command: "xclip", args: [] }, limits)).rejects.toMatchObject({
      message: expect.stringContaining("did not finish within 800 ms"),
    });
  });

  it("a forking tool that fails reports its stderr", async () => {
    const { fake, limits } = setup();
    fake.tool("wl-copy", [{ stderr: "Failed to connect to a Wayland server\n", exit: 1 }]);
    await expect(
      runToolOk({ command: "wl-copy", args: ["--type", "image/png"], forks: true }, limits),
    ).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message:
        "clipboard: `wl-copy --type image/png` failed (exit code 1): Failed to connect to a Wayland server",
    });
  });

  it("shows the command line it is given for messages instead of an unreadable one", async () => {
    const { fake, limits } = setup();
    fake.tool("powershell", [{ exit: 1, stderr: "boom" }]);
    const call = {
      command: "powershell",
      args: ["-EncodedCommand", "AAAA"],
      shown: "powershell <read>",
    };
    await expect(runToolOk(call, limits)).rejects.toMatchObject({
      message: "clipboard: `powershell <read>` failed (exit code 1): boom",
    });
  });
});
