import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ServingProcess } from "./serving-process.js";

/**
 * Runs a tool that forks a server and exits at once, as xclip -i does, in a group of its own;
 * resolves with the tool's pid (the group) and the server's.
 */
async function forkingTool(): Promise<{ group: number; server: number }> {
  const tool = spawn("sh", ["-c", "sleep 30 >/dev/null 2>&1 & echo $!"], {
    detached: true,
    stdio: ["ignore", "pipe", "ignore"],
  });
  let printed = "";
  tool.stdout.on("data", (chunk) => {
    printed += chunk;
  });
  await new Promise((resolve) => tool.once("close", resolve));
  return { group: tool.pid ?? 0, server: Number(printed.trim()) };
}

describe.skipIf(process.platform === "win32")("ServingProcess", () => {
  it("is alive while the forked server runs, and not once it exited, zombie or not", async () => {
    const { group, server } = await forkingTool();
    const serving = new ServingProcess(group);
    expect(serving.alive()).toBe(true);
    process.kill(server, "SIGTERM");
    // The server is an orphan: it may stay a zombie for a while, which must not count.
    await expect.poll(() => serving.alive(), { timeout: 2000 }).toBe(false);
  });

  it("is not alive for a group with no process left", async () => {
    const { group, server } = await forkingTool();
    process.kill(server, "SIGKILL");
    await expect.poll(() => new ServingProcess(group).alive(), { timeout: 2000 }).toBe(false);
  });
});
