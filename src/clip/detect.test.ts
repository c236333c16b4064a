import { afterEach, describe, expect, it } from "vitest";
import { detectClipboard } from "./detect.js";
import { installHint } from "./install-hint.js";
import { FakeTools } from "./testing/fake-tools.js";
import { findOnPath } from "./which.js";

const fakes: FakeTools[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.cleanup();
});

/** A PATH holding fakes of `tools`, and `vars` set. */
function pathWith(tools: string[], vars: NodeJS.ProcessEnv = {}) {
  const fake = new FakeTools(vars);
  fakes.push(fake);
  for (const tool of tools) fake.tool(tool, [{}]);
  return fake.env;
}

const debian = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
const linux = (env: NodeJS.ProcessEnv, osRelease = debian) =>
  detectClipboard({ env, platform: "linux", osRelease });

describe("detectClipboard", () => {
  it("picks Wayland when WAYLAND_DISPLAY is set and wl-clipboard is installed", () => {
    const env = pathWith(["wl-paste", "wl-copy", "xclip"], {
      WAYLAND_DISPLAY: "wayland-0",
      DISPLAY: ":0",
    });
    const clipboard = linux(env);
    expect(clipboard.backend).toBe("wayland");
    expect(clipboard.watch).toBeTypeOf("function");
  });

  it("picks xclip on X11, else xsel", () => {
    expect(linux(pathWith(["xclip", "xsel"], { DISPLAY: ":0" })).backend).toBe("x11-xclip");
    const xsel = linux(pathWith(["xsel"], { DISPLAY: ":0" }));
    expect(xsel.backend).toBe("x11-xsel");
    expect(xsel.detectsConcealed).toBe(false);
  });

  it("falls back to X11 under Wayland without wl-clipboard (Xwayland)", () => {
    const env = pathWith(["xclip"], { WAYLAND_DISPLAY: "wayland-0", DISPLAY: ":1" });
    expect(linux(env).backend).toBe("x11-xclip");
  });

  it("names the package to install for this distribution", () => {
    const wayland = pathWith(["wl-paste"], { WAYLAND_DISPLAY: "wayland-0" });
    expect(() => linux(wayland)).toThrow(
      expect.objectContaining({
        code: "ERR_CLIPBOARD_UNAVAILABLE",
        message:
          "syncline clip: WAYLAND_DISPLAY is set, but wl-copy is not on PATH: install wl-clipboard (sudo apt install wl-clipboard)",
      }),
    );
    const fedora = 'NAME="Fedora Linux"\nID=fedora\n';
    expect(() => linux(pathWith([], { WAYLAND_DISPLAY: "wayland-0" }), fedora)).toThrow(
      "wl-paste and wl-copy are not on PATH: install wl-clipboard (sudo dnf install wl-clipboard)",
    );
    expect(() => linux(pathWith([], { DISPLAY: ":0" }))).toThrow(
      expect.objectContaining({
        code: "ERR_CLIPBOARD_UNAVAILABLE",
        message:
          "syncline clip: DISPLAY is set, but neither xclip nor xsel is on PATH: install xclip or xsel (sudo apt install xclip; xsel carries text only)",
      }),
    );
  });

  it("without a graphical session says so", () => {
    for (const vars of [{}, { DISPLAY: "", WAYLAND_DISPLAY: " " }]) {
      expect(() => linux(pathWith(["xclip", "wl-paste", "wl-copy"], vars))).toThrow(
        expect.objectContaining({
          code: "ERR_CLIPBOARD_UNAVAILABLE",
          message: expect.stringContaining(
            "syncline clip: no DISPLAY or WAYLAND_DISPLAY: syncline clip needs a graphical session",
          ),
        }),
      );
    }
  });

  it("picks the system tools on macOS and Windows, and says where they should be", () => {
    const mac = detectClipboard({
      env: pathWith(["pbpaste", "pbcopy", "osascript"]),
      platform: "darwin",
    });
    expect(mac.backend).toBe("macos");
    expect(() => detectClipboard({ env: pathWith(["pbpaste"]), platform: "darwin" })).toThrow(
      "pbcopy, osascript not found on PATH: they come with macOS, in /usr/bin",
    );
    const windows = detectClipboard({
      env: {},
      platform: "win32",
      findExecutable: (name) => (name === "powershell" ? "C:\\powershell.exe" : undefined),
    });
    expect(windows.backend).toBe("windows");
    expect(() =>
      detectClipboard({ env: {}, platform: "win32", findExecutable: () => undefined }),
    ).toThrow(expect.objectContaining({ code: "ERR_CLIPBOARD_UNAVAILABLE" }));
  });

  it("asks findExecutable when given one", () => {
    const asked: string[] = [];
    const clipboard = detectClipboard({
      env: { DISPLAY: ":0" },
      platform: "freebsd",
      findExecutable: (name) => {
        asked.push(name);
        return name === "xsel" ? "/usr/local/bin/xsel" : undefined;
      },
    });
    expect(clipboard.backend).toBe("x11-xsel");
    expect(asked).toContain("xclip");
  });
});

describe("installHint", () => {
  it("uses the package manager of ID or ID_LIKE", () => {
    expect(installHint("xclip", "linux", 'ID=ubuntu\nID_LIKE="debian"\n')).toBe(
      "sudo apt install xclip",
    );
    expect(installHint("xclip", "linux", 'ID=linuxmint\nID_LIKE="ubuntu debian"\n')).toBe(
      "sudo apt install xclip",
    );
    expect(
      installHint("xclip", "linux", 'ID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n'),
    ).toBe("sudo zypper install xclip");
    expect(installHint("xclip", "linux", "ID=arch\n")).toBe("sudo pacman -S xclip");
    expect(installHint("xclip", "freebsd", undefined)).toBe("pkg install xclip");
  });

  it("lists the common ones for a system it does not know", () => {
    expect(installHint("xclip", "linux", "ID=nixos\n")).toBe(
      "Debian, Ubuntu: sudo apt install xclip; Fedora: sudo dnf install xclip; Arch: sudo pacman -S xclip",
    );
  });
});

describe("findOnPath", () => {
  it("finds executables only, in PATH order, ignoring empty entries", () => {
    const first = pathWith(["xclip"]);
    const second = pathWith(["xclip", "xsel"]);
    const env = { PATH: `:${first.PATH}:${second.PATH}` };
    expect(findOnPath("xclip", env, "linux")).toBe(`${first.PATH}/xclip`);
    expect(findOnPath("xsel", env, "linux")).toBe(`${second.PATH}/xsel`);
    // The fakes' rule files are there too, but are not executable.
    expect(findOnPath("xclip.rules.json", env, "linux")).toBeUndefined();
    expect(findOnPath("wl-copy", env, "linux")).toBeUndefined();
  });

  it("tries PATHEXT's extensions and reads Path on Windows", () => {
    // Named as PATHEXT spells it: Windows' file names ignore case, this host's do not.
    const dir = pathWith(["powershell.EXE"]).PATH ?? "";
    expect(findOnPath("powershell", { Path: dir, PATHEXT: ".COM;.EXE" }, "win32")).toBe(
      `${dir}/powershell.EXE`,
    );
  });
});
