// The Node helpers `syncline/client` exports: createHttpFetch and webSocketClassFor take a
// server as text or parsed, and refuse what they cannot use with coded errors.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webSocketClassFor } from "./dial-websocket.js";
import { createHttpFetch } from "./http-fetch.js";
import { parseServerAddress } from "./server-address.js";
import { WireClient } from "./wire-client.js";

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    response.end(`${request.method} ${request.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("createHttpFetch", () => {
  it("takes the server as text or parsed; a path goes under it", async () => {
    for (const given of [`${base}/prefix`, parseServerAddress(`${base}/prefix`)]) {
      const fetch = createHttpFetch(given, { context: "test" });
      const answer = await fetch("/api/share/x/data");
      expect(answer.status).toBe(200);
      expect(await answer.text()).toBe("GET /prefix/api/share/x/data");
    }
  });

  it("refuses a bad server with ERR_INVALID_SERVER_URL and a bad url with ERR_INVALID_OPTION", async () => {
    expect(() => createHttpFetch("ftp://h", { context: "test" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_SERVER_URL" }),
    );
    const fetch = createHttpFetch(base, { context: "test" });
    await expect(fetch("not a url")).rejects.toMatchObject({ code: "ERR_INVALID_OPTION" });
    await expect(fetch("ftp://h/x")).rejects.toMatchObject({
      code: "ERR_INVALID_OPTION",
      message: expect.stringContaining('"ftp://h/x"'),
    });
  });

  it("a server nobody listens on is ERR_CONNECT", async () => {
    const fetch = createHttpFetch("http://127.0.0.1:1", { context: "test" });
    await expect(fetch("/")).rejects.toMatchObject({ code: "ERR_CONNECT" });
  });
});

describe("webSocketClassFor", () => {
  it("takes the server as text; a bad server or url is ERR_INVALID_SERVER_URL", () => {
    expect(typeof webSocketClassFor(base)).toBe("function");
    expect(() => webSocketClassFor("nope")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_SERVER_URL" }),
    );
    const Socket = webSocketClassFor(base);
    expect(() => new Socket("::not a url")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_SERVER_URL" }),
    );
  });
});

describe("WireClient options", () => {
  it("a bad backoff or listener is ERR_INVALID_OPTION, before anything is dialed", () => {
    const signer = { publicKey: "", algorithm: "ssh-ed25519", sign: async () => new Uint8Array() };
    const address = parseServerAddress("ws://127.0.0.1:1");
    expect(() => new WireClient({ address, signer, backoff: { factor: 0 } } as never)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
    const client = new WireClient({ address, signer, maxAttempts: 1 } as never);
    expect(() => client.on("open", 1 as never)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
    expect(() => client.once("failed", "x" as never)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
    );
    client.close();
  });
});
