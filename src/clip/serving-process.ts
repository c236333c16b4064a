// Whether the process a clipboard tool forked to serve what we wrote (xclip -i) is still running.
// The tool ran in a process group of its own and exited; its forked server stays in that group and
// exits when another application takes the clipboard. The server is not our child: once it exits,
// it waits as a zombie until the system reaps it (at once under systemd, a second later or never
// in some containers), and a zombie still counts as a member of its group. So on Linux the server
// is found in /proc once and its own state is checked after; elsewhere the group is asked.

import { readdirSync, readFileSync } from "node:fs";

/** The server forked by a tool run of process group `group`. */
export class ServingProcess {
  readonly #group: number;
  /** The server's process id on Linux, once found; undefined where /proc cannot tell. */
  readonly #pid: number | undefined;

  constructor(group: number) {
    this.#group = group;
    this.#pid = process.platform === "linux" ? findMember(group) : undefined;
  }

  /** True while the server runs (not exited, not a zombie). */
  alive(): boolean {
    if (process.platform === "win32") return false;
    if (process.platform === "linux") {
      if (this.#pid === undefined) return false;
      const stat = readStat(this.#pid);
      // Exited, reaped and its id taken by another process: not ours any more.
      return stat !== undefined && stat.state !== "Z" && stat.group === this.#group;
    }
    try {
      process.kill(-this.#group, 0);
      return true;
    } catch {
      // ESRCH: the group is gone. EPERM: its id now belongs to another user's processes.
      return false;
    }
  }
}

/** A live process of `group`, by a scan of /proc; undefined when it has none. */
function findMember(group: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = readStat(pid);
    if (stat?.group === group && stat.state !== "Z") return pid;
  }
  return undefined;
}

/** State and process group from /proc/PID/stat; undefined once the process is gone. */
function readStat(pid: number): { state: string; group: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // "pid (command) state ppid pgrp …": the command may hold spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", group: Number(fields[2]) };
}
