// Debian's nginx for tests: one run per call, in its own temp directory (config, pid file, logs
// and temp folders all inside it, via -p and -c), in the foreground, stopped and removed with the
// test. A missing nginx or stream module skips the tests that need it (locally) or fails them
// (CI=true); CI installs Debian's nginx and libnginx-mod-stream.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { terminate } from "./terminate.js";

/** Debian's nginx; SYNCLINE_NGINX names another (or a missing one, to check CI). */
export const nginxPath = process.env.SYNCLINE_NGINX ?? "/usr/sbin/nginx";

/** What this nginx needs in its config to have the `stream` block, or why it cannot have one. */
function streamModule(): { loadModule: string } | { problem: string } {
  if (!existsSync(nginxPath)) {
    return { problem: `${nginxPath} is missing: install Debian's nginx and libnginx-mod-stream` };
  }
  // `nginx -V` prints how it was built (on stderr), e.g. `--with-stream=dynamic` on Debian.
  const version = spawnSync(nginxPath, ["-V"], { encoding: "utf8" });
  const built = `${version.stdout ?? ""}${version.stderr ?? ""}`;
  if (!built.includes("--with-stream_ssl_preread_module")) {
    return {
      problem: `${nginxPath} is built without ssl_preread (--with-stream_ssl_preread_module)`,
    };
  }
  if (/--with-stream(\s|$)/.test(built)) return { loadModule: "" };
  if (!/--with-stream=dynamic/.test(built)) return { problem: `${nginxPath} has no stream module` };
  const modules = /--modules-path=(\S+)/.exec(built)?.[1] ?? "/usr/lib/nginx/modules";
  const file = join(modules, "ngx_stream_module.so");
  if (!existsSync(file)) {
    return { problem: `${file} is missing: install Debian's libnginx-mod-stream` };
  }
  return { loadModule: `load_module ${file};` };
}

const stream = streamModule();

/** Why nginx tests cannot run here, or undefined when they can. */
export const nginxMissing = "problem" in stream ? stream.problem : undefined;

if (nginxMissing && !process.env.CI) {
  console.warn(`nginx tests skipped: ${nginxMissing}`);
}

/** What the config of one nginx run names: its files and the ports picked for it. */
export interface NginxRun {
  /** The run's own directory (nginx's prefix, -p). */
  readonly dir: string;
  readonly pidFile: string;
  readonly errorLog: string;
  readonly accessLog: string;
  /** `load_module …;` for the stream module when it is a dynamic module (Debian's), else "". */
  readonly loadStreamModule: string;
  /**
   * The `user` directive for the workers: ours when we are root (else nginx would run them as
   * nobody, who cannot reach this directory), none otherwise (nginx cannot switch users then).
   */
  readonly workerUser: string;
  /** The http block's temp folders (bodies and proxied answers), inside the directory. */
  readonly tempPaths: string;
  /** Free loopback ports, as many as asked for, for the config's listen directives. */
  readonly ports: readonly number[];
}

/** A running nginx. */
export interface TestNginx {
  readonly run: NginxRun;
  /** The error log so far (for failure messages). */
  errorLog(): string;
  /** Stops nginx (SIGKILL 5 s after SIGTERM) and removes its directory. Harmless twice. */
  stop(): Promise<void>;
}

/**
 * Writes the config `render` makes for a fresh directory and `ports` free loopback ports, and
 * starts nginx on it in the foreground (`-g "daemon off;"`); resolves once it has bound its ports
 * (it writes its pid file after that).
 */
export async function startNginx(
  ports: number,
  render: (run: NginxRun) => string,
): Promise<TestNginx> {
  if ("problem" in stream) throw new Error(`nginx tests: ${stream.problem}`);
  const picked: number[] = [];
  while (picked.length < ports) {
    const port = await freePort();
    if (!picked.includes(port)) picked.push(port);
  }
  const dir = await mkdtemp(join(tmpdir(), "syncline-nginx-"));
  const run: NginxRun = {
    dir,
    pidFile: join(dir, "nginx.pid"),
    errorLog: join(dir, "error.log"),
    accessLog: join(dir, "access.log"),
    loadStreamModule: stream.loadModule,
    workerUser: process.getuid?.() === 0 ? "user root;" : "",
    tempPaths: ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
      .map((kind) => `${kind}_temp_path ${join(dir, `${kind}-temp`)};`)
      .join(" "),
    ports: picked,
  };
  const configFile = join(dir, "nginx.conf");
  await writeFile(configFile, render(run));
  const child = spawn(nginxPath, ["-p", dir, "-c", configFile, "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const errorLog = () => {
    const log = existsSync(run.errorLog) ? readFileSync(run.errorLog, "utf8") : "";
    return `${stderr}${log}`.trim();
  };
  // Never leave nginx behind, even when a test run is cut short: SIGTERM, since the master
  // stops its workers then (a killed master would leave them serving).
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", killOnExit);
    await terminate(child, 5000);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPidFile(child, run.pidFile, errorLog);
  } catch (error) {
    await stop();
    throw error;
  }
  return { run, errorLog, stop };
}

/** Waits (5 s at most) for nginx to write its pid file, or fails with its error log. */
async function waitForPidFile(
  child: ChildProcess,
  pidFile: string,
  errorLog: () => string,
): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!existsSync(pidFile)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`nginx did not start: ${errorLog() || "no output"}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `template` with each `[text, replacement]` applied to every occurrence of `text`; throws when
 * a text is not there, so a template that changed cannot silently keep its old values.
 */
export function fillTemplate(
  template: string,
  replacements: readonly (readonly [text: string, replacement: string])[],
): string {
  let filled = template;
  for (const [text, replacement] of replacements) {
    if (!filled.includes(text)) throw new Error(`template: ${JSON.stringify(text)} is not in it`);
    filled = filled.split(text).join(replacement);
  }
  return filled;
}
