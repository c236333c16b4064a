// Runs a benchmark role (server, sender, receiver) in its own node process and talks to it over
// IPC, so each side's memory and CPU are its own and can be measured apart.

import { type ChildProcess, fork } from "node:child_process";

/** A message a role sends its parent. */
export interface RoleMessage {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A running role process. */
export interface RoleProcess {
  readonly child: ChildProcess;
  /** Resolves with the next message of `type` (rejects if the process exits first). */
  next(type: string, timeoutMs?: number): Promise<RoleMessage>;
  send(message: RoleMessage): void;
  /** Rejects once the process has exited (for racing against another role's answer). */
  readonly exited: Promise<never>;
  /** Asks the role for its RSS in bytes. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/** Forks `script` (a compiled role module) with `args`, in `env` (default: ours). */
export function startRole(
  script: string,
  args: readonly string[] = [],
  options: { env?: NodeJS.ProcessEnv | undefined } = {},
): RoleProcess {
  // BENCH_ROLE_EXEC_ARGV passes node flags to every role, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"
  // (NODE_OPTIONS refuses --cpu-prof).
  const execArgv = process.env.BENCH_ROLE_EXEC_ARGV?.split(" ").filter(Boolean);
  const child = fork(script, [...args], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    ...(execArgv ? { execArgv } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const inbox: RoleMessage[] = [];
  const waiting: { type: string; resolve: (m: RoleMessage) => void }[] = [];
  child.on("message", (message: RoleMessage) => {
    const index = waiting.findIndex((w) => w.type === message.type);
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(message);
    else inbox.push(message);
  });
  const next = (type: string, timeoutMs = 600_000) =>
    new Promise<RoleMessage>((resolve, reject) => {
      const queued = inbox.findIndex((m) => m.type === type);
      if (queued >= 0) return resolve(inbox.splice(queued, 1)[0] as RoleMessage);
      const timer = setTimeout(
        () => reject(new Error(`${script}: no "${type}" in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code}) before "${type}"`));
      };
      child.once("exit", onExit);
      waiting.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          child.off("exit", onExit);
          resolve(message);
        },
      });
    });
  const exited = new Promise<never>((_, reject) => {
    child.once("exit", (code, signal) =>
      reject(new Error(`${script} exited (${signal ?? code}) during the run`)),
    );
  });
  exited.catch(() => {}); // read only by those who race it
  return {
    child,
    exited,
    next,
    send: (message) => child.send(message),
    async rss() {
      child.send({ type: "rss?" });
      return Number((await next("rss")).bytes);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}

/** Inside a role: answers "rss?" requests and sends messages to the parent. */
export function roleChannel(): {
  send(message: RoleMessage): void;
  on(type: string, fn: (m: RoleMessage) => void): void;
} {
  const handlers = new Map<string, (m: RoleMessage) => void>();
  // Exit (rather than die) on SIGTERM, so `--cpu-prof` profiles of a role get written.
  process.once("SIGTERM", () => process.exit(0));
  process.on("message", (message: RoleMessage) => {
    if (message.type === "rss?") process.send?.({ type: "rss", bytes: process.memoryUsage().rss });
    else handlers.get(message.type)?.(message);
  });
  return {
    send: (message) => process.send?.(message),
    on: (type, fn) => handlers.set(type, fn),
  };
}
