// Attack: many clients post large bodies at once. Each share route bounds one body
// (share_max_body_bytes, 64 MiB by default); without a bound on their sum, a few hundred
// connections sending such bodies slowly would hold gigabytes. Against a real server with a
// 1 MiB http_body_total_bytes: while one client holds 800 KiB of an unfinished body, a second
// large body is refused with 503 ERR_SERVER_BUSY and Retry-After (nothing applied), a small one
// still fits, and once the first body is answered its bytes are free again.

import { afterEach, describe, expect, it } from "vitest";
import { metricValue, openRaw, type RawConnection, requestFrom } from "../helpers/loopback.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { sessionOf } from "../helpers/share.js";

const MiB = 1024 * 1024;
let test: TestServer | undefined;
const raws: RawConnection[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.socket.destroy();
  await test?.stop();
  test = undefined;
});

const sessionID = sessionOf("bodies01");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A sync body with one part whose text is `bytes` long. */
const syncBody = (secret: string, id: string, bytes: number) =>
  JSON.stringify({
    secret,
    data: [{ type: "part", data: { id, messageID: "msg_1", sessionID, text: "x".repeat(bytes) } }],
  });

async function heldBodyBytes(base: string): Promise<number> {
  const metrics = await requestFrom(`${base}/metrics`, "127.0.0.1");
  return metricValue(metrics.body, "syncline_http_body_bytes");
}

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}

describe("request bodies held at once", () => {
  it("refuse a body past http_body_total_bytes with 503 and Retry-After, and free the bytes once answered", async () => {
    test = await startTestServer({ httpBodyTotalBytes: MiB });
    const { url: base, port } = test.server;
    const created = await requestFrom(`${base}/api/share`, "127.0.0.1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sessionID }),
    });
    expect(created.status).toBe(201);
    const { id, secret } = JSON.parse(created.body);
    const path = `/api/share/${id}/sync`;

    // One client sends 800 KiB of a 900 KiB body and stops there.
    const slowBody = syncBody(secret, "prt_slow", 900 * 1024);
    const slow = await openRaw(port);
    raws.push(slow);
    slow.socket.write(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(slowBody)}\r\n\r\n`,
    );
    slow.socket.write(slowBody.slice(0, 800 * 1024));
    await until(async () => (await heldBodyBytes(base)) >= 800 * 1024);

    // A second large body does not fit: refused, nothing applied.
    const refused = await requestFrom(`${base}${path}`, "127.0.0.1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: syncBody(secret, "prt_big", 600 * 1024),
    });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error.code).toBe("ERR_SERVER_BUSY");
    expect(refused.headers["retry-after"]).toBe("1");

    // A small body still fits beside the held one.
    const small = await requestFrom(`${base}${path}`, "127.0.0.1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: syncBody(secret, "prt_small", 1000),
    });
    expect(small.status).toBe(200);

    // The first body ends: it is applied, and its bytes are free for the refused one's retry.
    slow.socket.write(slowBody.slice(800 * 1024));
    await until(async () => slow.received().startsWith("HTTP/1.1 200"));
    await until(async () => (await heldBodyBytes(base)) === 0);
    const retried = await requestFrom(`${base}${path}`, "127.0.0.1", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: syncBody(secret, "prt_big", 600 * 1024),
    });
    expect(retried.status).toBe(200);
    const data = await requestFrom(`${base}/api/share/${id}/data`, "127.0.0.1");
    const ids = JSON.parse(data.body).map((item: { data: { id: string } }) => item.data.id);
    expect(ids.sort()).toEqual(["prt_big", "prt_slow", "prt_small"]);
  });
});
