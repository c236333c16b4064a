import { afterEach, describe, expect, it } from "vitest";
import { pngItem, textItem } from "./clipboard.js";
import { FakeTools } from "./testing/fake-tools.js";
import { createXclipClipboard } from "./x11.js";
import { createXselClipboard } from "./xsel.js";

const fakes: FakeTools[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.cleanup();
});

function setup() {
  const fake = new FakeTools({ DISPLAY: ":0" });
  fakes.push(fake);
  const options = { env: fake.env, timeoutMs: 5000 };
  return { fake, xclip: createXclipClipboard(options), xsel: createXselClipboard(options) };
}

const png = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");
const out = (target: string) => ["-selection", "clipboard", "-t", target, "-o"];
const targets = out("TARGETS");

describe("the X11 clipboard through xclip", () => {
  it("reads text: lists the targets, then reads UTF8_STRING", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: targets, stdout: "TARGETS\nUTF8_STRING\nimage/png\n" },
      { args: out("UTF8_STRING"), stdout: "žluťoučký" },
    ]);
    expect(await xclip.read()).toEqual({
      item: textItem(Buffer.from("žluťoučký")),
      concealed: false,
    });
    expect(fake.argvs("xclip")).toEqual([targets, out("UTF8_STRING")]);
  });

  it("does not fetch an item again while its owner answers TIMESTAMP with the same time", async () => {
    const { fake, xclip } = setup();
    const offered = "TIMESTAMP\nTARGETS\nMULTIPLE\nUTF8_STRING\nimage/png\n";
    fake.tool("xclip", [
      { args: targets, stdout: offered },
      { args: out("TIMESTAMP"), stdout: "2798901\n" },
      { args: out("UTF8_STRING"), stdout: "first" },
    ]);
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("first")));
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("first")));
    expect(fake.argvs("xclip")).toEqual([
      targets,
      out("TIMESTAMP"),
      out("UTF8_STRING"),
      targets,
      out("TIMESTAMP"),
    ]);

    // A new copy: another time, and the item is fetched.
    fake.tool("xclip", [
      { args: targets, stdout: offered },
      { args: out("TIMESTAMP"), stdout: "2799279\n" },
      { args: out("UTF8_STRING"), stdout: "second" },
    ]);
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("second")));
    expect(fake.argvs("xclip").slice(-1)).toEqual([out("UTF8_STRING")]);
  });

  it("fetches the item every time when the owner's TIMESTAMP is 0 or fails", async () => {
    const { fake, xclip } = setup();
    const offered = "TIMESTAMP\nTARGETS\nUTF8_STRING\n";
    fake.tool("xclip", [
      { args: targets, stdout: offered },
      { args: out("TIMESTAMP"), stdout: "0\n" },
      { args: out("UTF8_STRING"), stdout: "same" },
    ]);
    await xclip.read();
    await xclip.read();
    fake.tool("xclip", [
      { args: targets, stdout: offered },
      { args: out("TIMESTAMP"), stderr: "Error: target TIMESTAMP not available\n", exit: 1 },
      { args: out("UTF8_STRING"), stdout: "same" },
    ]);
    await xclip.read();
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("same")));
    expect(fake.argvs("xclip").filter((argv) => argv.includes("UTF8_STRING"))).toHaveLength(4);
  });

  it("falls back to text/plain, and converts STRING from ISO 8859-1", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: targets, stdout: "TARGETS\ntext/plain\n" },
      { args: out("text/plain"), stdout: "plain" },
    ]);
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("plain")));

    fake.tool("xclip", [
      { args: targets, stdout: "TARGETS\nSTRING\n" },
      { args: out("STRING"), stdout: Buffer.from([0x63, 0x61, 0x66, 0xe9]) },
    ]);
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("café")));
  });

  it("reads an image as image/png", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: targets, stdout: "TARGETS\nimage/png\nimage/bmp\n" },
      { args: out("image/png"), stdout: png },
    ]);
    expect((await xclip.read()).item).toEqual(pngItem(png));
  });

  it("an unowned selection is nothing, as xclip says it", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: targets, stderr: "Error: target TARGETS not available\n", exit: 1 },
    ]);
    expect(await xclip.read()).toEqual({ item: undefined, concealed: false });
  });

  it("a password manager's item is concealed and never read", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: targets, stdout: "TARGETS\nUTF8_STRING\nx-kde-passwordManagerHint\n" },
      { stdout: "hunter2" },
    ]);
    expect(await xclip.read()).toEqual({ item: undefined, concealed: true });
    expect(fake.argvs("xclip")).toEqual([targets]);
  });

  it("a failing xclip is ERR_CLIPBOARD naming it", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [{ stderr: "Error: Can't open display: :0\n", exit: 1 }]);
    await expect(xclip.read()).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message:
        "clipboard: `xclip -selection clipboard -t TARGETS -o` failed (exit code 1): Error: Can't open display: :0",
    });
  });

  it("writes text as UTF8_STRING and images as image/png with -i, the bytes on stdin", async () => {
    const { fake, xclip } = setup();
    // xclip's forked server keeps stderr open: the write must not wait for it.
    fake.tool("xclip", [{ forkMs: 3000 }]);
    const started = Date.now();
    await xclip.write(textItem(Buffer.from("ünïcode")));
    await xclip.write(pngItem(png));
    expect(Date.now() - started).toBeLessThan(2500);
    expect(fake.calls("xclip")).toMatchObject([
      {
        argv: ["-selection", "clipboard", "-t", "UTF8_STRING", "-i"],
        stdin: Buffer.from("ünïcode"),
      },
      { argv: ["-selection", "clipboard", "-t", "image/png", "-i"], stdin: png },
    ]);
  });

  it("does not fetch an item it wrote again while its xclip still serves it", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: ["-selection", "clipboard", "-t", "image/png", "-i"], forkMs: 1500 },
      { args: targets, stdout: "TARGETS\nimage/png\n" },
      { args: out("image/png"), stdout: png },
    ]);
    await xclip.write(pngItem(png));
    for (let read = 0; read < 3; read++) {
      expect(await xclip.read()).toEqual({ item: pngItem(png), concealed: false });
    }
    // Only the cheap target list, never the image itself.
    expect(fake.argvs("xclip").slice(1)).toEqual([targets, targets, targets]);

    // Its server gone (another application copied): the clipboard is read in full again.
    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect((await xclip.read()).item).toEqual(pngItem(png));
    expect(fake.argvs("xclip").slice(4)).toEqual([targets, out("image/png")]);
  });

  it("reads in full once the selection offers other targets than its own xclip did", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: ["-selection", "clipboard", "-t", "UTF8_STRING", "-i"], forkMs: 3000 },
      { args: targets, stdout: "TARGETS\nUTF8_STRING\n" },
    ]);
    await xclip.write(textItem(Buffer.from("ours")));
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("ours")));
    // Another application took the clipboard, and our stuck xclip did not exit.
    fake.tool("xclip", [
      { args: targets, stdout: "TARGETS\nUTF8_STRING\ntext/html\n" },
      { args: out("UTF8_STRING"), stdout: "theirs" },
    ]);
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("theirs")));
    expect(fake.argvs("xclip").slice(-2)).toEqual([targets, out("UTF8_STRING")]);
    expect((await xclip.read()).item).toEqual(textItem(Buffer.from("theirs")));
  });

  it("takes an owner that does not answer while its own xclip serves as busy, not changed", async () => {
    const { fake, xclip } = setup();
    fake.tool("xclip", [
      { args: ["-selection", "clipboard", "-t", "image/png", "-i"], forkMs: 5000 },
      { args: targets, hang: true },
    ]);
    await xclip.write(pngItem(png));
    const started = Date.now();
    expect(await xclip.read()).toEqual({ item: pngItem(png), concealed: false });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000); // the short query limit, not the 5 s tool limit
  });

  it("watches through XFIXES (x11-watch.ts), and recognises concealed items", () => {
    const { xclip, xsel } = setup();
    expect(xclip.watch).toBeTypeOf("function");
    expect(xsel.watch).toBeTypeOf("function");
    expect(xclip.detectsConcealed).toBe(true);
  });
});

describe("the X11 clipboard through xsel", () => {
  it("reads text with --clipboard --output", async () => {
    const { fake, xsel } = setup();
    fake.tool("xsel", [{ args: ["--clipboard", "--output"], stdout: "ünïcode" }]);
    expect(await xsel.read()).toEqual({ item: textItem(Buffer.from("ünïcode")), concealed: false });
  });

  it("empty output, or bytes that are not UTF-8, are nothing", async () => {
    const { fake, xsel } = setup();
    fake.tool("xsel", [{ stdout: "" }]);
    expect(await xsel.read()).toEqual({ item: undefined, concealed: false });
    fake.tool("xsel", [{ stdout: png }]);
    expect(await xsel.read()).toEqual({ item: undefined, concealed: false });
  });

  it("writes text with --clipboard --input, and refuses images", async () => {
    const { fake, xsel } = setup();
    fake.tool("xsel", [{ forkMs: 2000 }]);
    await xsel.write(textItem(Buffer.from("ünïcode")));
    await expect(xsel.write(pngItem(png))).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message: expect.stringContaining("xsel cannot put an image on the clipboard"),
    });
    expect(fake.calls("xsel")).toMatchObject([
      { argv: ["--clipboard", "--input"], stdin: Buffer.from("ünïcode") },
    ]);
  });

  it("says it cannot see password-manager items", () => {
    expect(setup().xsel.detectsConcealed).toBe(false);
  });

  it("a failing xsel is ERR_CLIPBOARD naming it", async () => {
    const { fake, xsel } = setup();
    fake.tool("xsel", [{ stderr: "xsel: Can't open display: :0\n", exit: 1 }]);
    await expect(xsel.read()).rejects.toMatchObject({
      code: "ERR_CLIPBOARD",
      message:
        "clipboard: `xsel --clipboard --output` failed (exit code 1): xsel: Can't open display: :0",
    });
  });
});
