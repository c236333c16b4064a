// What a receive's own callbacks throw ends that receive with the thrown error: it neither hangs
// nor becomes an unhandled rejection, and the connection stays usable.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import type { TestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import type { WireClient } from "../../src/transport/wire-client.js";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, makeKeys, memorySink, payloadOf, receiveOne } from "../helpers/transport.js";

let dir: { path: string; remove: () => Promise<void> };
let server: TestServer;
let client: WireClient;
let channels: ChannelClient;

beforeAll(async () => {
  dir = await createTempDir("syncline-channel-callbacks-");
  const { keys, authorizedKeys } = makeKeys(dir.path, ["ed25519"]);
  server = await startTestServer({ authorizedKeys });
  client = await clientFor(server.server.url, keys.ed25519 as TestKey);
  channels = new ChannelClient(client, { origin: "sender" });
  await channels.send("c", payloadOf(1000).source);
});

afterAll(async () => {
  client?.close();
  await server?.stop();
  await dir?.remove();
});

describe("receive callbacks that throw", () => {
  it("a throwing until rejects receive with its error", async () => {
    const mistake = new Error("until failed");
    await expect(
      channels.receive("c", {
        latest: true,
        takeOwn: true,
        accept: (incoming) => memorySink(incoming.size),
        until: () => {
          throw mistake;
        },
      }),
    ).rejects.toBe(mistake);
  });

  it("a throwing accept rejects receive with its error", async () => {
    const mistake = new Error("accept failed");
    await expect(
      channels.receive("c", {
        latest: true,
        takeOwn: true,
        accept: () => {
          throw mistake;
        },
        until: () => true,
      }),
    ).rejects.toBe(mistake);
    // The connection still serves the next receive.
    const other = new ChannelClient(client, { origin: "receiver" });
    const { written } = await receiveOne(other, "c");
    expect(written).toBe(1000);
  });
});
