// syncDocument as a library call: the server given as text (as a user writes it) or as a parsed
// address (as the CLI passes it), and every bad option refused with a coded error before any
// connection opens.

import * as Automerge from "@automerge/automerge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncDocument } from "../../src/automerge/client/sync-client.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { generateDocumentId } from "../../src/util/ids.js";
import { startTestServer, type TestServer } from "../helpers/server.js";

let server: TestServer;
let url: string;

beforeAll(async () => {
  server = await startTestServer();
  url = server.server.url.replace(/^http/, "ws");
});

afterAll(async () => {
  await server.stop();
});

describe("syncDocument", () => {
  it("pushes with the server as a string and pulls with it as a parsed address", async () => {
    const documentId = generateDocumentId();
    const doc = Automerge.change(Automerge.init<{ title?: string }>(), (d) => {
      d.title = "hello";
    });
    const pushed = await syncDocument({ server: url, documentId, doc });
    expect(pushed.changesSent).toBe(1);
    const pulled = await syncDocument({
      server: parseServerAddress(url),
      documentId,
      doc: Automerge.init(),
      timeoutMs: 10_000,
      retries: 0,
    });
    expect((pulled.doc as { title?: string }).title).toBe("hello");
    expect(pulled.heads).toEqual(pushed.heads);
  });

  it("rejects an invalid server, document id or option before connecting", async () => {
    const documentId = generateDocumentId();
    const doc = Automerge.init();
    const refused = (options: Record<string, unknown>, code: string) =>
      expect(
        syncDocument({ server: url, documentId, doc, ...options } as never),
      ).rejects.toMatchObject({ name: "SynclineError", code });
    await refused({ server: "ftp://example.org" }, "ERR_INVALID_SERVER_URL");
    await refused({ server: "not a url" }, "ERR_INVALID_SERVER_URL");
    await refused({ documentId: "automerge:nope" }, "ERR_INVALID_DOCUMENT_ID");
    await refused({ doc: { title: "a plain object" } }, "ERR_INVALID_OPTION");
    await refused({ timeoutMs: 0 }, "ERR_INVALID_OPTION");
    await refused({ retries: -1 }, "ERR_INVALID_OPTION");
    await refused({ retries: 1.5 }, "ERR_INVALID_OPTION");
    await refused({ backoff: { factor: 0.5 } }, "ERR_INVALID_OPTION");
  });

  it("a server nobody listens on ends with ERR_CONNECT after the retries", async () => {
    await expect(
      syncDocument({
        server: "ws://127.0.0.1:1",
        documentId: generateDocumentId(),
        doc: Automerge.init(),
        retries: 1,
        backoff: { initialMs: 1, maxMs: 1 },
      }),
    ).rejects.toMatchObject({ code: "ERR_CONNECT" });
  });
});
