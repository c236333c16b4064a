import { describe, expect, it } from "vitest";
import type { WireClient } from "../transport/wire-client.js";
import { ChannelClient } from "./channel-client.js";

/** A wire client that never connects: enough to see what a call refuses before it waits. */
const offline = { on: () => () => {}, current: undefined } as unknown as WireClient;
const invalid = (pattern: RegExp) =>
  expect.objectContaining({ code: "ERR_INVALID_OPTION", message: expect.stringMatching(pattern) });

describe("ChannelClient refuses a bad call at once, with a coded error", () => {
  const client = new ChannelClient(offline, { origin: "device-1" });
  const read = async () => new Uint8Array(0);

  it("send: the payload's size, its reader, the chunk size, the progress listener", async () => {
    await expect(client.send("files", { size: -1, read })).rejects.toEqual(invalid(/size -1/));
    await expect(client.send("files", { size: 1.5, read })).rejects.toEqual(invalid(/size 1.5/));
    await expect(client.send("files", { size: 1 } as never)).rejects.toEqual(invalid(/read/));
    await expect(client.send("files", { size: 1, read }, { chunkSize: 0 })).rejects.toEqual(
      invalid(/chunkSize 0/),
    );
    await expect(
      client.send("files", { size: 1, read }, { onProgress: "yes" as never }),
    ).rejects.toEqual(invalid(/onProgress/));
    await expect(client.send("bad name", { size: 1, read })).rejects.toMatchObject({
      code: "ERR_INVALID_CHANNEL",
    });
  });

  it("receive: listeners that are not functions", async () => {
    const options = { latest: true, accept: () => undefined, until: () => true };
    await expect(client.receive("files", { ...options, until: 1 as never })).rejects.toEqual(
      invalid(/until/),
    );
    await expect(client.receive("files", { ...options, accept: null as never })).rejects.toEqual(
      invalid(/accept/),
    );
  });
});
