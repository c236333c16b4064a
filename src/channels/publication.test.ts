import { describe, expect, it } from "vitest";
import { Publication, type PublicationMeta } from "./publication.js";

const meta = (size: number): PublicationMeta => ({
  transferId: "t-1",
  channel: "clip",
  size,
  origin: "laptop",
  name: undefined,
  chunkSize: 4,
  publisher: "SHA256:key",
});

describe("Publication.takeFrames", () => {
  it("lets only the first delivery of a payload still arriving take the publisher's frames", async () => {
    const publication = new Publication(meta(8), true);
    expect(publication.takeFrames()).toBe(true);
    await publication.buffer.append(0, new Uint8Array(4));
    expect(publication.takeFrames()).toBe(false);
  });

  it("gives them to the first delivery even when it starts part-way through the upload", async () => {
    const publication = new Publication(meta(8), false);
    await publication.buffer.append(0, new Uint8Array(4));
    expect(publication.takeFrames()).toBe(true);
    expect(publication.takeFrames()).toBe(false);
  });

  it("gives no delivery the frames of a payload already held whole", async () => {
    const publication = new Publication(meta(4), true);
    await publication.buffer.append(0, new Uint8Array(4));
    expect(publication.takeFrames()).toBe(false);
  });
});
