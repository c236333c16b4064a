// Debian's HAProxy for tests, configured from docs/examples/haproxy.cfg itself: one run per call,
// in its own temp directory (config and admin socket), in the foreground (-db), as the current
// user on loopback, stopped and removed with the test. The example's TLS parts cannot run here
// (its certificates, port 443, nodes with TLS listeners), so the run keeps what a plain-HTTP
// deployment of the example is: its global and defaults sections, the `syncline_https` frontend
// bound to a plain loopback port, and both backends with the test's nodes as servers, without
// `ssl` and PROXY headers (the test nodes are plain HTTP and take no PROXY header). /wire, which
// the example passes through on its own host name, gets a second loopback port in mode tcp
// (plain text has no SNI to route on). A missing haproxy skips the tests that need it (locally)
// or fails them (CI=true); .ci/run installs Debian's haproxy.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "vitest";
import { freePort } from "./free-port.js";
import { terminate } from "./terminate.js";

/** Debian's haproxy; SYNCLINE_HAPROXY names another (or a missing one, to check CI). */
export const haproxyPath = process.env.SYNCLINE_HAPROXY ?? "/usr/sbin/haproxy";

const examplePath = resolve(import.meta.dirname, "../../docs/examples/haproxy.cfg");

/**
 * Why HAProxy tests cannot run here, or undefined when they can. Under CI=true a missing haproxy
 * registers a failing test under `suite` (CI must install it); elsewhere the caller skips its
 * suite with `describe.skipIf(missing !== undefined)`.
 */
export function haproxyMissing(suite: string): string | undefined {
  const problem = existsSync(haproxyPath)
    ? undefined
    : `${haproxyPath} is missing: install Debian's haproxy (apt-get install -y haproxy)`;
  if (problem !== undefined) {
    if (process.env.CI) {
      describe(suite, () => {
        it("has haproxy (required under CI=true)", () => {
          throw new Error(`${suite} under CI=true: ${problem}`);
        });
      });
    } else {
      console.warn(`haproxy tests skipped: ${problem}`);
    }
  }
  return problem;
}

/** A node behind the balancer. */
export interface HaproxyBackend {
  readonly host: string;
  readonly port: number;
}

/** One server of the example's `syncline_http` backend, as HAProxy's stats report it. */
export interface HaproxyServerState {
  /** `node1`, `node2`, …: the n-th backend given to startHaproxy, counted from 1. */
  readonly name: string;
  /**
   * As HAProxy's stats say: `UP`, `DOWN`, `UP 1/2` (going down), `DOWN 1/2` (coming up),
   * `MAINT`, `DRAIN`, `no check`.
   */
  readonly status: string;
  /** Connections it sent to this server in all (`stot`). */
  readonly sessions: number;
  /** The last health check: its status, code and detail, e.g. `L7OK 200 OK`. */
  readonly lastCheck: string;
}

/** A running HAProxy. */
export interface TestHaproxy {
  /** `http://127.0.0.1:<port>`: the HTTP frontend (HTTP requests and WebSockets; /wire → 421). */
  readonly url: string;
  /** `ws://127.0.0.1:<port>`: /wire, passed through in mode tcp (the example's wire host). */
  readonly wireUrl: string;
  /** The config it runs (for failure messages). */
  readonly config: string;
  /** The servers of the HTTP backend, in the order of the backends given. */
  servers(): Promise<HaproxyServerState[]>;
  /**
   * Waits until HAProxy's health checks have the `index`-th backend (from 0) fully `UP` or
   * `DOWN`; resolves with the milliseconds it took.
   */
  waitForServer(index: number, status: "UP" | "DOWN", timeoutMs?: number): Promise<number>;
  /** What HAProxy printed (its alerts and notices: servers going up and down). */
  output(): string;
  /** Stops HAProxy (SIGKILL 2 s after SIGTERM) and removes its directory. Harmless twice. */
  stop(): Promise<void>;
}

/** The ports and files of one run, for the config. */
interface Run {
  readonly httpPort: number;
  readonly wirePort: number;
  readonly adminSocket: string;
}

/**
 * Starts HAProxy in front of `backends` with the example's balancing: round-robin, each HTTP
 * request on its own (in mode http HAProxy balances requests, also on a kept-alive client
 * connection), each WebSocket and each /wire connection on its own; health checks on GET
 * /healthz. Resolves once both frontends accept connections and (see `waitForChecks`) every
 * backend passed its first check.
 */
export async function startHaproxy(options: {
  backends: readonly HaproxyBackend[];
  /**
   * Also wait until every backend passed its first health check (true by default): until then
   * HAProxy counts a server as up on trust, spreading the first checks over the interval (2 s),
   * and a test that looks at the servers' states would see `UP 1/2`.
   */
  waitForChecks?: boolean;
}): Promise<TestHaproxy> {
  if (!existsSync(haproxyPath)) throw new Error(`haproxy tests: ${haproxyPath} is missing`);
  if (options.backends.length === 0) throw new Error("startHaproxy: no backends");
  const httpPort = await freePort();
  let wirePort = await freePort();
  while (wirePort === httpPort) wirePort = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "syncline-haproxy-"));
  const run: Run = { httpPort, wirePort, adminSocket: join(dir, "admin.sock") };
  const config = haproxyConfig(readFileSync(examplePath, "utf8"), run, options.backends);
  const configFile = join(dir, "haproxy.cfg");
  await writeFile(configFile, config);

  const child = spawn(haproxyPath, ["-f", configFile, "-db"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  // Never leave HAProxy behind, even when a test run is cut short.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", killOnExit);
    await terminate(child, 2000);
    await rm(dir, { recursive: true, force: true });
  };
  const servers = async (): Promise<HaproxyServerState[]> =>
    parseStats(await adminCommand(run.adminSocket, "show stat"));
  try {
    await waitForPorts(child, [httpPort, wirePort], () => output);
    if (options.waitForChecks ?? true) await waitForFirstChecks(servers, () => output);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `http://127.0.0.1:${httpPort}`,
    wireUrl: `ws://127.0.0.1:${wirePort}`,
    config,
    servers,
    async waitForServer(index, status, timeoutMs = 15_000) {
      const name = serverName(index);
      const started = Date.now();
      let last = "unknown";
      while (Date.now() - started < timeoutMs) {
        last = (await servers()).find((server) => server.name === name)?.status ?? "missing";
        if (last === status) return Date.now() - started;
        await new Promise((resolveWait) => setTimeout(resolveWait, 50));
      }
      throw new Error(
        `haproxy: ${name} still ${last}, not ${status}, after ${timeoutMs} ms; output: ${output}`,
      );
    },
    output: () => output,
    stop,
  };
}

/** The example's name for the `index`-th server (from 0). */
function serverName(index: number): string {
  return `node${index + 1}`;
}

/**
 * docs/examples/haproxy.cfg made runnable here: the sections a plain-HTTP deployment uses, with
 * this run's ports, socket and servers. Every replaced text must be in the example, so an example
 * that changed cannot silently keep the values the test meant to replace.
 */
function haproxyConfig(example: string, run: Run, backends: readonly HaproxyBackend[]): string {
  const sections = splitSections(example);
  const section = (name: string, replacements: readonly (readonly [string, string])[]) => {
    let text = sections.get(name);
    if (text === undefined) throw new Error(`haproxy example: no section "${name}"`);
    for (const [from, to] of replacements) {
      if (!text.includes(from)) {
        throw new Error(`haproxy example: ${JSON.stringify(from)} is not in "${name}"`);
      }
      text = text.split(from).join(to);
    }
    return text;
  };
  const exampleServers = (line: (n: number) => string) =>
    [1, 2, 3].map((n) => `    ${line(n)}\n`).join("");
  const testServers = (line: (name: string, backend: HaproxyBackend) => string) =>
    backends.map((backend, i) => `    ${line(serverName(i), backend)}\n`).join("");
  return [
    section("global", [
      // Nothing that needs root: no chroot, no user switch, no syslog socket. In the foreground
      // (-db) HAProxy prints its warnings (a server going down or up) on stderr, collected here.
      ["    log /dev/log local0\n", ""],
      ["    chroot /var/lib/haproxy\n", ""],
      ["    user haproxy\n", ""],
      ["    group haproxy\n", ""],
      ["stats socket /run/haproxy/admin.sock", `stats socket ${run.adminSocket}`],
      // Within the open-file limit an unprivileged user may have (HAProxy cannot raise it then).
      ["maxconn 40000", "maxconn 2000"],
    ]),
    section("defaults", []),
    section("frontend syncline_https", [
      [
        "bind abns@syncline-https accept-proxy ssl crt /etc/haproxy/certs/sync.example.org.pem",
        `bind 127.0.0.1:${run.httpPort}`,
      ],
    ]),
    section("backend syncline_http", [
      [" ssl verify required ca-file @system-ca verifyhost wire.example.org send-proxy-v2", ""],
      [
        exampleServers((n) => `server node${n} 10.0.0.1${n}:3030`),
        testServers((name, { host, port }) => `server ${name} ${host}:${port}`),
      ],
    ]),
    section("backend syncline_wire", [
      [
        exampleServers(
          (n) => `server node${n} 10.0.0.1${n}:3030 send-proxy-v2 track syncline_http/node${n}`,
        ),
        testServers(
          (name, { host, port }) => `server ${name} ${host}:${port} track syncline_http/${name}`,
        ),
      ],
    ]),
    // The example's `public_tls` routes /wire by SNI; without TLS there is none, so /wire has a
    // port of its own, in mode tcp like the example's passthrough.
    [
      "frontend wire_plain",
      "    mode tcp",
      `    bind 127.0.0.1:${run.wirePort}`,
      "    default_backend syncline_wire",
      "",
    ].join("\n"),
  ].join("\n");
}

/** The config's sections by header (`global`, `backend syncline_http`, …), each with its lines. */
function splitSections(config: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const flush = () => {
    if (name !== undefined) sections.set(name, `${lines.join("\n")}\n`);
  };
  for (const line of config.split("\n")) {
    // A section starts with its keyword in the first column; anything else belongs to the
    // section above (comments between sections included, which HAProxy skips anyway).
    const header = /^(global|defaults|frontend \S+|backend \S+|listen \S+)\s*$/.exec(line);
    if (header) {
      flush();
      name = header[1];
      lines = [];
    }
    if (name !== undefined) lines.push(line);
  }
  flush();
  return sections;
}

/** Waits (5 s at most) until every port accepts a connection, or fails with HAProxy's output. */
async function waitForPorts(
  child: ChildProcess,
  ports: readonly number[],
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 5000;
  for (const port of ports) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        throw new Error(`haproxy did not start: ${output().trim() || "no output"}`);
      }
      await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
  }
}

/** Waits (10 s at most) until every server was checked and is up. */
async function waitForFirstChecks(
  servers: () => Promise<HaproxyServerState[]>,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const states = await servers();
    if (states.every((server) => server.status === "UP" && !server.lastCheck.startsWith("INI"))) {
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `haproxy: not every node passed its health check: ${JSON.stringify(states)}; ${output()}`,
      );
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
}

/** True when something on loopback `port` accepts a TCP connection. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolveAccepts) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolveAccepts(true);
    });
    socket.once("error", () => resolveAccepts(false));
  });
}

/** Sends one command to HAProxy's admin socket; resolves with its whole answer. */
function adminCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolveAnswer, reject) => {
    const socket = connect({ path: socketPath });
    let answer = "";
    socket.setTimeout(2000, () => socket.destroy(new Error(`haproxy: "${command}" timed out`)));
    socket.once("connect", () => socket.write(`${command}\n`));
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
    });
    socket.once("error", reject);
    // Without `prompt`, HAProxy answers one command and closes the connection.
    socket.once("close", (hadError) => {
      if (!hadError) resolveAnswer(answer);
    });
  });
}

/** The `syncline_http` servers in `show stat`'s CSV (first line: `# pxname,svname,…`). */
function parseStats(csv: string): HaproxyServerState[] {
  const [head, ...rows] = csv.trim().split("\n");
  const columns = (head ?? "").replace(/^# /, "").split(",");
  const at = (row: string[], column: string) => row[columns.indexOf(column)] ?? "";
  return rows
    .map((line) => line.split(","))
    .filter((row) => at(row, "pxname") === "syncline_http" && /^node\d+$/.test(at(row, "svname")))
    .map((row) => ({
      name: at(row, "svname"),
      status: at(row, "status"),
      sessions: Number(at(row, "stot")),
      lastCheck: ["check_status", "check_code", "last_chk"]
        .map((column) => at(row, column))
        .filter((value) => value !== "")
        .join(" "),
    }));
}
