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
  user: "-",
});

describe("Publication.takeFrames", () => {
  it("lets only the first delivery of a payload still arriving take the publisher's frames", async () => {
    const publication = new Publication(meta(8));
    expect(publication.takeFrames()).toBe(true);
    await publication.buffer.append(0, new Uint8Array(4));
    expect(publication.takeFrames()).toBe(false);
  });

  it("gives them to the first delivery even when it starts part-way through the upload", async () => {
    const publication = new Publication(meta(8));
    await publication.buffer.append(0, new Uint8Array(4));
    expect(publication.takeFrames()).toBe(true);
    expect(publication.takeFrames()).toBe(false);
  });

  it("gives no delivery the frames of a payload already held whole", async () => {
    const publication = new Publication(meta(4));
    await publication.buffer.append(0, new Uint8Array(4));
    expect(publication.takeFrames()).toBe(false);
  });
});

describe("Publication.active", () => {
  it("is active while unfinished, idle once complete with no delivery, active while one runs", async () => {
    const publication = new Publication(meta(4));
    let idleCalls = 0;
    publication.onIdle = () => idleCalls++;
    expect(publication.active).toBe(true);
    publication.completed(new Uint8Array(32));
    expect(publication.active).toBe(false);
    let finish: (ok: boolean) => void = () => {};
    publication.track(
      new Promise<boolean>((resolve) => {
        finish = resolve;
      }),
    );
    expect(publication.active).toBe(true);
    finish(true);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(publication.active).toBe(false);
    expect(publication.delivered).toBe(1);
    expect(idleCalls).toBe(1);
  });
});
