// The package as a user gets it: `npm pack`, installed from the tarball into a scratch project,
// then each entry imported by plain Node (native dependencies included), the browser entry
// bundled for browsers by esbuild, and the README's library examples type-checked against the
// shipped declarations and run against the embedded server. Needs npm and ssh-keygen; a missing
// one fails the test rather than skipping it. dist/ must be built (`npm test` builds it first).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { isBuiltin } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as Automerge from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
/** npm install from the cache takes 30–90 s on a small machine; the examples a few more. */
const slow = 300_000;

let work: string;
let scratch: string;
let packed: { filename: string; files: Array<{ path: string }> };

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`), capturing its output. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** A long-running process whose output can be waited for. */
function start(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(process.execPath, args, { cwd, env });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return {
    child,
    exited,
    output: () => `stdout:\n${stdout}\nstderr:\n${stderr}`,
    async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(stdout)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`${args.join(" ")}: no ${pattern} in its output\n${stdout}\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The js code blocks of the README's "Use it as a library" section. */
function readmeExamples(): string[] {
  const readme = readFileSync(resolve(root, "README.md"), "utf8");
  const start = readme.indexOf("## Use it as a library");
  expect(start, "README.md has a 'Use it as a library' section").toBeGreaterThan(0);
  const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
  return [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1] as string);
}

/** The README examples by what they show, each found exactly once. */
function examplesByName(): Record<string, string> {
  const examples = readmeExamples();
  // Told apart by what they import.
  const imports = (name: string, from: string) =>
    new RegExp(`^import \\{[^}]*\\b${name}\\b[^}]*\\} from "${from}";$`, "m");
  const kinds: Record<string, RegExp> = {
    server: imports("startServer", "syncline"),
    publish: imports("createShareQueue", "syncline/client"),
    watch: imports("WebSocket", "ws"),
    browser: imports("createViewerClient", "syncline/browser"),
    sync: imports("syncDocument", "syncline/client"),
    channels: imports("ChannelClient", "syncline/client"),
  };
  expect(examples).toHaveLength(Object.keys(kinds).length);
  return Object.fromEntries(
    Object.entries(kinds).map(([name, matches]) => {
      const found = examples.filter((code) => matches.test(code));
      expect(found, `README example "${name}"`).toHaveLength(1);
      return [name, found[0] as string];
    }),
  );
}

beforeAll(async () => {
  const built = ["index", "client", "browser", "storage/index"].flatMap((name) => [
    `dist/${name}.js`,
    `dist/${name}.d.ts`,
  ]);
  const missing = built.filter((file) => !existsSync(resolve(root, file)));
  if (missing.length > 0) {
    throw new Error(`dist/ is not built (missing ${missing.join(", ")}): run npm run build first`);
  }
  const npm = spawnSync("npm", ["--version"], { encoding: "utf8" });
  if (npm.status !== 0)
    throw new Error(`npm is needed to pack and install the package: ${npm.error}`);

  work = mkdtempSync(join(tmpdir(), "syncline-tarball-"));
  const packDir = join(work, "pack");
  mkdirSync(packDir);
  const pack = await run(
    "npm",
    ["pack", "--ignore-scripts", "--json", "--pack-destination", packDir],
    { cwd: root },
  );
  expect(pack.code, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0] as typeof packed;

  scratch = join(work, "project");
  mkdirSync(scratch);
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "scratch", private: true, type: "module" }),
  );
  const install = await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      "--prefer-offline",
      join(packDir, packed.filename),
    ],
    { cwd: scratch, env: { ...process.env, npm_config_update_notifier: "false" }, timeoutMs: slow },
  );
  expect(install.code, `npm install failed:\n${install.stdout}\n${install.stderr}`).toBe(0);
}, slow);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

/** Runs an ES module script in the scratch project and returns its stdout. */
async function node(script: string): Promise<string> {
  const ran = await run(process.execPath, ["--input-type=module", "-e", script], { cwd: scratch });
  expect(ran.code, ran.stderr).toBe(0);
  return ran.stdout;
}

describe("the packed package, installed from its tarball", () => {
  it("ships every entry's code and declarations, and no tests", () => {
    const files = packed.files.map((file) => file.path);
    for (const name of ["index", "client", "browser", "storage/index"]) {
      expect(files).toContain(`dist/${name}.js`);
      expect(files).toContain(`dist/${name}.d.ts`);
    }
    expect(files.filter((file) => /\.test\.|^src\/|^test\//.test(file))).toEqual([]);
  });

  it("each entry imports in plain Node with what it promises", async () => {
    const types = JSON.parse(
      await node(`
        const names = {
          syncline: ["startServer", "serverConfig", "openLmdbStore", "createMemoryStore", "SynclineError"],
          "syncline/client": ["createShareQueue", "createShareHttp", "createViewerClient", "syncDocument",
            "connect", "WireClient", "ChannelClient", "parseServerAddress", "createHttpFetch",
            "webSocketClassFor", "SynclineError", "isSynclineError"],
          "syncline/browser": ["createViewerClient", "viewerSocketUrl", "SynclineError", "isSynclineError"],
          "syncline/storage": ["openLmdbStore", "createMemoryStore", "encodeKey"],
        };
        const types = {};
        for (const [entry, wanted] of Object.entries(names)) {
          const module = await import(entry);
          types[entry] = Object.fromEntries(wanted.map((name) => [name, typeof module[name]]));
        }
        console.log(JSON.stringify(types));
      `),
    ) as Record<string, Record<string, string>>;
    for (const [entry, names] of Object.entries(types)) {
      expect(
        Object.entries(names).filter(([, type]) => type !== "function"),
        entry,
      ).toEqual([]);
    }
  });

  it("its native dependencies load although their install scripts did not run", async () => {
    // lmdb and bufferutil ship prebuilt binaries in their npm packages; opening a store and
    // masking a frame use them.
    const out = await node(`
      import { mkdtempSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { openLmdbStore } from "syncline/storage";
      import bufferutil from "bufferutil";
      const store = await openLmdbStore({ path: mkdtempSync(join(tmpdir(), "lmdb-")) });
      await store.write([{ type: "put", key: ["k"], value: new Uint8Array([7]) }]);
      console.log("lmdb", [...(await store.get(["k"]))].join());
      await store.close();
      const target = Buffer.alloc(1);
      bufferutil.mask(Buffer.from([1]), Buffer.from([3, 0, 0, 0]), target, 0, 1);
      console.log("bufferutil", target[0]);
    `);
    expect(out).toBe("lmdb 7\nbufferutil 2\n");
  });

  it("syncline/browser bundles for browsers with esbuild; syncline/client does not", async () => {
    const { build } = await import("esbuild");
    writeFileSync(join(scratch, "entry.js"), 'export * from "syncline/browser";\n');
    writeFileSync(join(scratch, "readme-browser.js"), examplesByName().browser as string);
    const options = {
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      metafile: true,
      logLevel: "silent",
      absWorkingDir: scratch,
      outdir: join(scratch, "bundle"),
    } as const;
    const result = await build({ ...options, entryPoints: ["entry.js", "readme-browser.js"] });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toContain("node_modules/syncline/dist/share/client/viewer-client.js");
    expect(inputs.filter((input) => input.startsWith("node:"))).toEqual([]);
    // The same build of the Node entry fails on Node built-ins: this build would see one.
    writeFileSync(join(scratch, "node-entry.js"), 'export * from "syncline/client";\n');
    const failure = await build({ ...options, entryPoints: ["node-entry.js"] }).then(
      () => undefined,
      (error: { errors?: Array<{ text: string }> }) => error,
    );
    const unresolved = (failure?.errors ?? []).flatMap(
      ({ text }) => /^Could not resolve "([^"]+)"/.exec(text)?.[1] ?? [],
    );
    expect(unresolved.filter((name) => isBuiltin(name)).length).toBeGreaterThan(0);
  });

  it(
    "the README's library examples type-check against the shipped declarations",
    async () => {
      const examples = join(scratch, "typecheck");
      mkdirSync(examples, { recursive: true });
      for (const [name, code] of Object.entries(examplesByName())) {
        writeFileSync(join(examples, `${name}.js`), code);
      }
      // Node's and ws's types, which a TypeScript user installs beside the package.
      const types = join(scratch, "node_modules", "@types");
      mkdirSync(types, { recursive: true });
      for (const name of ["node", "ws"]) {
        if (!existsSync(join(types, name))) {
          symlinkSync(resolve(root, "node_modules", "@types", name), join(types, name));
        }
      }
      writeFileSync(
        join(scratch, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            module: "nodenext",
            moduleResolution: "nodenext",
            target: "es2022",
            lib: ["es2023", "dom"],
            types: ["node"],
            allowJs: true,
            checkJs: true,
            strict: true,
            noEmit: true,
            skipLibCheck: true,
          },
          include: ["typecheck/*.js"],
        }),
      );
      // A web project has no Node types: syncline/browser's declarations must not need them.
      writeFileSync(
        join(scratch, "tsconfig.browser.json"),
        JSON.stringify({
          extends: "./tsconfig.json",
          compilerOptions: { lib: ["es2022", "dom"], types: [], skipLibCheck: false },
          include: ["typecheck/browser.js"],
        }),
      );
      const tsc = resolve(root, "node_modules", "typescript", "bin", "tsc");
      for (const project of ["tsconfig.json", "tsconfig.browser.json"]) {
        const checked = await run(process.execPath, [tsc, "-p", project], { cwd: scratch });
        expect(checked.stdout + checked.stderr, project).toBe("");
        expect(checked.code, project).toBe(0);
      }
    },
    slow,
  );

  it(
    "the README's library examples run against the embedded server",
    async () => {
      const examples = examplesByName();
      const port = await freePort();
      const dir = join(scratch, "run");
      const home = join(dir, "home");
      mkdirSync(join(home, ".ssh"), { recursive: true });
      const keygen = spawnSync("ssh-keygen", [
        ...["-t", "ed25519", "-N", "", "-q", "-C", "readme"],
        ...["-f", join(home, ".ssh", "id_ed25519")],
      ]);
      expect(keygen.status, `ssh-keygen: ${keygen.error ?? keygen.stderr}`).toBe(0);
      writeFileSync(
        join(dir, "authorized_keys"),
        readFileSync(join(home, ".ssh", "id_ed25519.pub")),
      );
      // The sync example syncs the local copy it finds: one with a change, which it pushes.
      const local = Automerge.change(Automerge.init<{ note?: string }>(), (doc) => {
        doc.note = "written offline";
      });
      writeFileSync(join(dir, "notes.automerge"), Automerge.save(local));
      for (const [name, code] of Object.entries(examples)) {
        writeFileSync(join(scratch, `${name}.example.js`), code.replaceAll("3030", String(port)));
      }
      // connect() finds the key as ssh would: no agent here, so ~/.ssh/id_ed25519.
      const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
      delete env.SSH_AUTH_SOCK;
      delete env.NODE_OPTIONS;
      const script = (name: string) => join(scratch, `${name}.example.js`);
      const example = async (name: string) => {
        const ran = await run(process.execPath, [script(name)], { cwd: dir, env });
        expect(ran.code, `${name} example:\n${ran.stdout}\n${ran.stderr}`).toBe(0);
        return ran.stdout;
      };

      const server = start([script("server")], dir, env);
      try {
        await server.waitFor(new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`));
        expect(await example("publish")).toMatch(/viewers open http:\/\/\S+\/share\/abcdefgh/);
        const watch = start([script("watch")], dir, env);
        try {
          await watch.waitFor(/'session\/info\/ses_01HXYZabcdefgh'[\s\S]*title: 'hello'/);
        } finally {
          watch.child.kill();
        }
        expect(await example("sync")).toBe("1 changes sent, 0 received\n");
        // Nobody received it while it was sent; the server keeps it, so the receive that follows
        // gets it as the channel's latest.
        expect(await example("channels")).toBe(
          "delivered to 0 receivers, kept: true\nhello from the library",
        );
        server.child.kill("SIGINT");
        expect(await server.exited, server.output()).toBe(0);
      } finally {
        server.child.kill("SIGKILL");
      }
    },
    slow,
  );
});
