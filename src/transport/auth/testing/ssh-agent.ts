// A real OpenSSH ssh-agent for tests, on a socket in a temp directory; `stop()` ends exactly the
// process it started.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";

/** A running test agent. */
export interface TestAgent {
  /** The agent's socket, the value for SSH_AUTH_SOCK. */
  readonly socketPath: string;
  /**
   * Adds a private key file with `ssh-add`; with `confirm`, `ssh-add -c`: each use must then be
   * confirmed, which this agent always denies (it has no one to ask).
   */
  add(privatePath: string, options?: { confirm?: boolean }): void;
  /** Removes every key with `ssh-add -D`. */
  removeAll(): void;
  /** Stops the agent. */
  stop(): Promise<void>;
}

/** Starts `ssh-agent -D -a <dir>/agent.sock` and waits until its socket exists. */
export async function startTestAgent(dir: string): Promise<TestAgent> {
  const socketPath = join(dir, "agent.sock");
  // Confirmations (`ssh-add -c`) are asked through SSH_ASKPASS: /bin/false denies every one, the
  // same on every machine, with or without a display.
  const agentEnv = { ...process.env, SSH_ASKPASS: "/bin/false", SSH_ASKPASS_REQUIRE: "force" };
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", socketPath], {
    stdio: "ignore",
    env: agentEnv,
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (let i = 0; !existsSync(socketPath); i++) {
    if (i > 200 || child.exitCode !== null)
      throw new Error(`ssh-agent did not start on ${socketPath}`);
    await delay(10);
  }
  const env = { ...process.env, SSH_AUTH_SOCK: socketPath };
  return {
    socketPath,
    add(privatePath, options = {}) {
      const args = options.confirm ? ["-c", privatePath] : [privatePath];
      execFileSync("ssh-add", args, { env, stdio: "pipe" });
    },
    removeAll() {
      execFileSync("ssh-add", ["-D"], { env, stdio: "pipe" });
    },
    async stop() {
      if (child.exitCode === null) child.kill();
      await exited;
    },
  };
}
