import { afterEach, describe, expect, it } from "vitest";
import { pngItem, textItem } from "./clipboard.js";
import { FakeTools, isRunning } from "./testing/fake-tools.js";
import { createWaylandClipboard } from "./wayland.js";

const fakes: FakeTools[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.cleanup();
});

function setup() {
  const fake = new FakeTools({ WAYLAND_DISPLAY: "wayland-1" });
  fakes.push(fake);
  return { fake, clipboard: createWaylandClipboard({ env: fake.env, timeoutMs: 5000 }) };
}

const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
const listTypes = ["--list-types"];
const textArgs = ["--no-newline", "--type", "text/plain;charset=utf-8"];

describe("the Wayland clipboard (wl-clipboard)", () => {
  it("reads text: lists the types, then pastes UTF-8 text without a newline", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-paste", [
      { args: listTypes, stdout: "text/plain;charset=utf-8\ntext/plain\nimage/png\nTEXT\n" },
      { args: textArgs, stdout: "héllo\n" },
    ]);
    const read = await clipboard.read();
    expect(read.concealed).toBe(false);
    expect(read.item).toEqual(textItem(Buffer.from("héllo\n")));
    expect(fake.argvs("wl-paste")).toEqual([listTypes, textArgs]);
  });

  it("reads Xwayland text offered as UTF8_STRING only", async () => {
    const { fake, clipboard } = setup();
    const args = ["--no-newline", "--type", "UTF8_STRING"];
    fake.tool("wl-paste", [
      { args: listTypes, stdout: "TARGETS\nUTF8_STRING\nSTRING\n" },
      { args, stdout: "x11" },
    ]);
    expect((await clipboard.read()).item).toEqual(textItem(Buffer.from("x11")));
    expect(fake.argvs("wl-paste")[1]).toEqual(args);
  });

  it("reads an image as PNG when no text is offered", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-paste", [
      { args: listTypes, stdout: "image/png\nimage/jpeg\n" },
      { args: ["--type", "image/png"], stdout: png },
    ]);
    expect((await clipboard.read()).item).toEqual(pngItem(png));
  });

  it("carries nothing of other types", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-paste", [{ args: listTypes, stdout: "image/jpeg\ntext/uri-list\n" }]);
    expect(await clipboard.read()).toEqual({ item: undefined, concealed: false });
    expect(fake.argvs("wl-paste")).toEqual([listTypes]);
  });

  it("an empty clipboard is nothing, as wl-clipboard 2.1 and 2.2 say it", async () => {
    for (const message of ["No selection\n", "Nothing is copied\n"]) {
      const { fake, clipboard } = setup();
      fake.tool("wl-paste", [{ args: listTypes, stderr: message, exit: 1 }]);
      expect(await clipboard.read()).toEqual({ item: undefined, concealed: false });
    }
  });

  it("a password manager's item is concealed and never pasted", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-paste", [
      { args: listTypes, stdout: "text/plain;charset=utf-8\nx-kde-passwordManagerHint\n" },
      { stdout: "hunter2" },
    ]);
    expect(await clipboard.read()).toEqual({ item: undefined, concealed: true });
    expect(fake.argvs("wl-paste")).toEqual([listTypes]);
  });

  it("a failing wl-paste is ERR_CLIPBOARD naming it", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-paste", [{ stderr: "Failed to connect to a Wayland server\n", exit: 1 }]);
    await expect(clipboard.read()).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message:
        "clipboard: `wl-paste --list-types` failed (exit code 1): Failed to connect to a Wayland server",
    });
  });

  it("writes text and images with wl-copy --type, the bytes on stdin", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-copy", [{ forkMs: 2000 }]);
    await clipboard.write(textItem(Buffer.from("ünïcode")));
    await clipboard.write(pngItem(png));
    expect(fake.calls("wl-copy")).toMatchObject([
      { argv: ["--type", "text/plain;charset=utf-8"], stdin: Buffer.from("ünïcode") },
      { argv: ["--type", "image/png"], stdin: png },
    ]);
  });

  it("refuses to write an image that is not PNG", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-copy", [{}]);
    const jpeg = { kind: "image", mime: "image/jpeg", bytes: png } as const;
    await expect(clipboard.write(jpeg)).rejects.toMatchObject({ code: "ERR_INVALID_OPTION" });
    expect(fake.calls("wl-copy")).toEqual([]);
  });

  it("watches with wl-paste --watch: one change per line", async () => {
    const { fake, clipboard } = setup();
    fake.tool("wl-paste", [{ lines: { count: 3, everyMs: 20 } }]);
    let changes = 0;
    const errors: Error[] = [];
    const watch = clipboard.watch?.(
      () => changes++,
      (error) => errors.push(error),
    );
    await expect.poll(() => changes).toBe(3);
    watch?.stop();
    expect(errors).toEqual([]);
    expect(fake.argvs("wl-paste")).toEqual([["--no-newline", "--watch", "echo", "x"]]);
    const [call] = fake.calls("wl-paste");
    await expect.poll(() => isRunning(call?.pid ?? 0)).toBe(false);
  });

  it("tells onError once when the watcher ends, e.g. without the data-control protocol", async () => {
    const { fake, clipboard } = setup();
    const refusal = "Watch mode requires a compositor that supports wlroots data-control protocol";
    fake.tool("wl-paste", [{ stderr: `${refusal}\n`, exit: 1 }]);
    const errors: Error[] = [];
    clipboard.watch?.(
      () => {},
      (error) => errors.push(error),
    );
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]).toMatchObject({
      code: "ERR_CLIPBOARD",
      message: `clipboard: \`wl-paste --no-newline --watch echo x\` stopped watching the clipboard (exit code 1): ${refusal}`,
    });
  });
});
