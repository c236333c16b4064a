// The HTTP adapter's own answers, driven in-process with stand-ins for node's request and
// response: a request target that cannot be parsed (400) and a route that throws (500) are
// JSON errors that no cache may keep.

import type { IncomingMessage, ServerResponse } from "node:http";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createRequestListener } from "./http-adapter.js";
import { HttpRouter, jsonResponse } from "./http-router.js";
import { createServerMetrics } from "./metrics.js";
import { OutputBudget } from "./output-budget.js";
import { ClientAddresses } from "./trusted-proxies.js";

const budgets: OutputBudget[] = [];
afterAll(() => {
  for (const budget of budgets) budget.stop();
});

interface Written {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Answers one request through the adapter and returns what it wrote. */
function answer(router: HttpRouter, method: string, url: string): Promise<Written> {
  const budget = new OutputBudget({
    perConnectionBytes: 1 << 20,
    totalBytes: 1 << 30,
    graceMs: 60_000,
  });
  budgets.push(budget);
  const listener = createRequestListener(
    router,
    createServerMetrics(),
    pino({ level: "silent" }),
    budget,
    new ClientAddresses(undefined),
  );
  return new Promise((resolve) => {
    let head: { status: number; headers: Record<string, string> } | undefined;
    const response = {
      socket: null,
      writableLength: 0,
      once() {},
      headersSent: false,
      destroyed: false,
      writeHead(status: number, headers: Record<string, string>) {
        head = { status, headers };
      },
      end(body?: string | Uint8Array) {
        if (head) resolve({ ...head, body: String(body ?? "") });
      },
    };
    listener(
      { method, url, headers: {}, socket: {} } as unknown as IncomingMessage,
      response as unknown as ServerResponse,
    );
  });
}

describe("createRequestListener", () => {
  const router = new HttpRouter()
    .get("/fine", () => jsonResponse(200, { ok: true }))
    .get("/broken", () => {
      throw new Error("boom");
    });

  it("answers an unparsable request target 400 ERR_USAGE with cache-control: no-store", async () => {
    const written = await answer(router, "GET", "http://[");
    expect(written.status).toBe(400);
    expect(JSON.parse(written.body).error.code).toBe("ERR_USAGE");
    expect(written.headers["cache-control"]).toBe("no-store");
  });

  it("answers a route that throws 500 ERR_UNEXPECTED with cache-control: no-store", async () => {
    const written = await answer(router, "GET", "/broken");
    expect(written.status).toBe(500);
    expect(JSON.parse(written.body).error).toEqual({
      code: "ERR_UNEXPECTED",
      message: "GET /broken failed: boom",
    });
    expect(written.headers["cache-control"]).toBe("no-store");
  });

  it("leaves a route's own answer as the route made it", async () => {
    const written = await answer(router, "GET", "/fine");
    expect(written.status).toBe(200);
    expect(written.headers["cache-control"]).toBeUndefined();
  });
});
