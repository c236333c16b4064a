// The built CLI against a real server: `share create` with the server's share-create token from
// the config file, and `admin delete-share|delete-document` with the admin token.

import * as A from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDocumentId } from "../../src/util/ids.js";
import { openWireClient, syncUntilAcknowledged } from "../helpers/automerge-wire.js";
import { createDeviceEnv, runCliProcess } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/share.js";
import { createTempDir } from "../helpers/temp-dir.js";

let dir: { path: string; remove: () => Promise<void> };
let test: TestServer;
let base: string;

beforeAll(async () => {
  dir = await createTempDir("syncline-cli-admin-");
  test = await startTestServer({ adminToken: "owner-token", shareCreateToken: "create-token" });
  base = test.server.url;
});

afterAll(async () => {
  await test?.stop();
  await dir?.remove();
});

const device = (config = "") => createDeviceEnv(dir.path, config);

describe("share create with a share-create token", () => {
  it("sends [share] create_token; without it the server's refusal exits 8", async () => {
    const withToken = device(`[share]\nserver = "${base}"\ncreate_token = "create-token"\n`);
    const created = await runCliProcess(["share", "create", "ses_cli_tokened1", "--json"], {
      env: withToken,
    });
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ ok: true, id: "tokened1" });
    const flag = await runCliProcess(
      ["share", "create", "ses_cli_tokened2", "--server", base, "--create-token", "create-token"],
      { env: device() },
    );
    expect(flag.code, flag.stderr).toBe(0);
    const without = await runCliProcess(["share", "create", "ses_cli_tokened3", "--server", base], {
      env: device(),
    });
    expect(without.code).toBe(8);
    expect(without.stderr).toMatch(/share-create token/);
  });
});

describe("syncline admin", () => {
  async function share(id: string): Promise<void> {
    const created = await fetch(`${base}/api/share`, {
      method: "POST",
      headers: { authorization: "Bearer create-token", "content-type": "application/json" },
      body: JSON.stringify({ sessionID: `ses_cli_${id}` }),
    });
    expect(created.status).toBe(201);
  }

  it("deletes a share with --token, or with [admin] token from the config", async () => {
    await share("adminone");
    const byFlag = await runCliProcess(
      ["admin", "delete-share", "adminone", "--server", base, "--token", "owner-token", "--json"],
      { env: device() },
    );
    expect(byFlag.code, byFlag.stderr).toBe(0);
    expect(JSON.parse(byFlag.stdout)).toEqual({
      ok: true,
      kind: "share",
      id: "adminone",
      server: base,
    });
    expect((await call(base, "GET", "/api/share/adminone/data")).status).toBe(410);
    await share("admintwo");
    const configured = device(`[admin]\nserver = "${base}"\ntoken = "owner-token"\n`);
    const byConfig = await runCliProcess(["admin", "delete-share", "admintwo"], {
      env: configured,
    });
    expect(byConfig.code, byConfig.stderr).toBe(0);
    expect(byConfig.stdout).toBe(`share admintwo deleted from ${base}\n`);
  });

  it("exits 8 with a wrong token, 2 with none, 5 for an unknown share", async () => {
    const wrong = await runCliProcess(
      ["admin", "delete-share", "whatever", "--server", base, "--token", "guess"],
      { env: device() },
    );
    expect(wrong.code).toBe(8);
    expect(wrong.stderr).toMatch(/admin token/);
    const none = await runCliProcess(["admin", "delete-share", "whatever", "--server", base], {
      env: device(),
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--token/);
    const unknown = await runCliProcess(
      ["admin", "delete-share", "nosuchid", "--server", base, "--token", "owner-token"],
      { env: device() },
    );
    expect(unknown.code).toBe(5);
  });

  it("deletes an automerge document named by its automerge: URL", async () => {
    const documentId = generateDocumentId();
    const client = await openWireClient(`${base.replace(/^http/, "ws")}/`);
    await client.join("cli-admin");
    const doc = A.change(A.init<{ n: number }>(), (d) => {
      d.n = 1;
    });
    await syncUntilAcknowledged(client, "cli-admin", documentId, doc);
    const deleted = await runCliProcess(
      [
        "admin",
        "delete-document",
        `automerge:${documentId}`,
        "--server",
        base,
        "--token",
        "owner-token",
      ],
      { env: device() },
    );
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await client.closed).toBe(4410);
  });
});
