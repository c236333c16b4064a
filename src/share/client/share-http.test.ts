import { describe, expect, it } from "vitest";
import { classifySync, createShareHttp, type FetchLike, httpBaseUrl } from "./share-http.js";

describe("share http", () => {
  it("normalizes server URLs and refuses others", () => {
    expect(httpBaseUrl("ws://h:1/")).toBe("http://h:1");
    expect(httpBaseUrl("wss://h/prefix/")).toBe("https://h/prefix");
    expect(httpBaseUrl("http://h:1?x=1")).toBe("http://h:1");
    expect(() => httpBaseUrl("ftp://h")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_SERVER_URL" }),
    );
    expect(() => httpBaseUrl("nope")).toThrow(/"nope"/);
  });

  it("reads ignoredCount: the total, beyond the ignored items the server listed", () => {
    const listed = Array.from({ length: 100 }, (_, index) => ({ index, reason: "r" }));
    const answer = classifySync(200, { seq: 1, ignored: listed, ignoredCount: 5000 }, "");
    expect(answer).toMatchObject({ kind: "ok", ignoredCount: 5000 });
    expect(answer.kind === "ok" && answer.ignored).toHaveLength(100);
    // An older server without it (or a count below the list): the list is the whole story.
    expect(classifySync(200, { ignored: [1, 2] }, "")).toMatchObject({ ignoredCount: 2 });
    expect(classifySync(200, { ignored: [1, 2], ignoredCount: 1 }, "")).toMatchObject({
      ignoredCount: 2,
    });
    expect(classifySync(200, { ignored: [], ignoredCount: "7" }, "")).toMatchObject({
      ignoredCount: 0,
    });
  });

  it("classifies sync answers", () => {
    expect(
      classifySync(200, { seq: 4, accepted: 2, ignored: [{ index: 1, reason: "r" }] }, ""),
    ).toEqual({
      kind: "ok",
      seq: 4,
      accepted: 2,
      ignored: [{ index: 1, reason: "r" }],
      ignoredCount: 1,
    });
    expect(classifySync(503, undefined, "down")).toMatchObject({
      kind: "retry",
      status: 503,
      message: "HTTP 503: down",
      error: { code: "ERR_SHARE_STORAGE", status: 503, retryable: true },
    });
    // A 5xx is retried whatever its code's table entry says.
    expect(
      classifySync(500, { error: { code: "ERR_UNEXPECTED", message: "m" } }, ""),
    ).toMatchObject({ kind: "retry", error: { code: "ERR_UNEXPECTED", retryable: true } });
    expect(classifySync(429, undefined, "").kind).toBe("retry");
    expect(classifySync(401, { error: { message: "m" } }, "")).toMatchObject({
      kind: "unauthorized",
      error: { code: "ERR_SHARE_SECRET", status: 401 },
    });
    expect(classifySync(404, undefined, "")).toMatchObject({
      kind: "not-found",
      error: { code: "ERR_SHARE_NOT_FOUND" },
    });
    expect(
      classifySync(
        413,
        {
          error: {
            code: "ERR_SHARE_TOO_LARGE",
            message: "big",
            items: [{ index: 0, key: "k", reason: "r" }, 3, "k2", null],
          },
        },
        "",
      ),
    ).toEqual({
      kind: "rejected",
      status: 413,
      message: "big (ERR_SHARE_TOO_LARGE)",
      items: [{ index: 0, key: "k", reason: "r" }, { index: 3 }, { key: "k2" }],
      error: expect.objectContaining({ code: "ERR_SHARE_TOO_LARGE", status: 413 }),
    });
  });

  it("create and delete map statuses to share error codes; network errors are ERR_CONNECT", async () => {
    const answer =
      (status: number, body: unknown): FetchLike =>
      async () => ({ status, text: async () => JSON.stringify(body) });
    const created = await createShareHttp({
      server: "http://h",
      fetch: answer(201, { id: "abcdefgh", secret: "s", url: "http://h/s/abcdefgh" }),
    }).create("ses_abcdefgh");
    expect(created).toEqual({ id: "abcdefgh", secret: "s", url: "http://h/s/abcdefgh" });
    await expect(
      createShareHttp({
        server: "http://h",
        fetch: answer(409, { error: { message: "taken" } }),
      }).create("ses_abcdefgh"),
    ).rejects.toMatchObject({
      code: "ERR_SHARE_EXISTS",
      message: expect.stringMatching(/409: taken/),
    });
    await expect(
      createShareHttp({
        server: "http://h",
        fetch: answer(200, { id: "abcdefgh", url: "http://h/share/abcdefgh" }),
      }).create("ses_abcdefgh"),
    ).rejects.toMatchObject({
      code: "ERR_SHARE_EXISTS",
      message: expect.stringMatching(/already shared on http:\/\/h as abcdefgh/),
    });
    await expect(
      createShareHttp({ server: "http://h", fetch: answer(401, {}) }).remove("abcdefgh", "s"),
    ).rejects.toMatchObject({ code: "ERR_SHARE_SECRET" });
    await expect(
      createShareHttp({ server: "http://h", fetch: answer(404, {}) }).remove("abcdefgh", "s"),
    ).rejects.toMatchObject({ code: "ERR_SHARE_NOT_FOUND" });
    const down: FetchLike = async () => {
      throw new TypeError("fetch failed");
    };
    await expect(
      createShareHttp({ server: "http://h", fetch: down }).create("ses_abcdefgh"),
    ).rejects.toMatchObject({
      code: "ERR_CONNECT",
      message: expect.stringContaining("POST http://h/api/share"),
    });
    const outcome = await createShareHttp({ server: "http://h", fetch: down }).sync(
      "abcdefgh",
      "s",
      [],
    );
    expect(outcome).toMatchObject({
      kind: "retry",
      status: undefined,
      error: { code: "ERR_CONNECT", retryable: true },
    });
    // An item that cannot be sent is refused before any request, as ERR_SHARE_ITEM.
    const cyclic: Record<string, unknown> = { id: "ses_a" };
    cyclic.self = cyclic;
    const unsendable = await createShareHttp({ server: "http://h", fetch: down }).sync(
      "abcdefgh",
      "s",
      [{ type: "session", data: cyclic }],
    );
    expect(unsendable).toMatchObject({
      kind: "rejected",
      status: 0,
      error: { code: "ERR_SHARE_ITEM" },
    });
  });
});
