// While the server cannot be reached, sends wait in a bounded queue; past its limits they are
// refused at once, and when the client gives up the waiting ones fail with its reason.

import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { ChannelClient } from "../../src/channels/channel-client.js";
import { generateTestKey } from "../../src/transport/auth/testing/ssh-keygen.js";
import { createTempDir } from "../helpers/temp-dir.js";
import { clientFor, payloadOf } from "../helpers/transport.js";

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === "object" && address ? address.port : 0;
}

describe("channel client offline", () => {
  it("queues sends up to its limits, refuses beyond them, and fails them when the client gives up", async () => {
    const dir = await createTempDir();
    try {
      const key = generateTestKey(dir.path, "ed25519");
      const url = `ws://127.0.0.1:${await closedPort()}`;
      const client = await clientFor(url, key, {
        maxAttempts: 50,
        backoff: { initialMs: 20, maxMs: 50 },
      });
      const channels = new ChannelClient(client, {
        origin: "x",
        offline: { maxCount: 2, maxBytes: 1000 },
      });
      const first = channels.send("c", payloadOf(400).source);
      const second = channels.send("c", payloadOf(400).source);
      await expect(channels.send("c", payloadOf(10).source)).rejects.toMatchObject({
        code: "ERR_QUEUE_FULL",
      });
      first.catch(() => {});
      second.catch(() => {});
      client.close();
      await expect(first).rejects.toMatchObject({ code: "ERR_CONNECTION_CLOSED" });
      await expect(second).rejects.toMatchObject({ code: "ERR_CONNECTION_CLOSED" });
    } finally {
      await dir.remove();
    }
  });
});
