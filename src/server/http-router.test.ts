import { describe, expect, it } from "vitest";
import { HttpRouter, jsonResponse, type UnroutedRequest } from "./http-router.js";

function request(method: string, path: string): UnroutedRequest {
  return { method, path, query: new URLSearchParams(), headers: {} };
}

describe("HttpRouter", () => {
  /** The route's answer; fails the test when the route threw. */
  const answer = async (request: UnroutedRequest) => {
    const routed = await router.handle(request);
    if (!("response" in routed)) throw routed.error;
    return routed;
  };
  const router = new HttpRouter()
    .get("/healthz", () => jsonResponse(200, { ok: true }))
    .add("POST", "/api/share/:id/sync", ({ params }) => jsonResponse(200, { id: params.id }))
    .add("DELETE", "/api/share/:id", () => jsonResponse(200, {}))
    .get("/broken", () => {
      throw new Error("boom");
    });

  it("answers a matching route and names its pattern", async () => {
    const { route, response } = await answer(request("GET", "/healthz"));
    expect(route).toBe("/healthz");
    expect(response.status).toBe(200);
  });

  it("captures and decodes :params", async () => {
    const { response } = await answer(request("POST", "/api/share/ab%20c/sync"));
    expect(JSON.parse(String(response.body))).toEqual({ id: "ab c" });
  });

  it("answers HEAD with the GET route", async () => {
    const { response } = await answer(request("HEAD", "/healthz"));
    expect(response.status).toBe(200);
  });

  it("answers 405 with Allow when the path exists for other methods", async () => {
    const { route, response } = await answer(request("PUT", "/api/share/x"));
    expect(route).toBe("unmatched");
    expect(response.status).toBe(405);
    expect(response.headers?.allow).toBe("DELETE");
    expect(response.headers?.["cache-control"]).toBe("no-store");
    expect(JSON.parse(String(response.body)).error.code).toBe("ERR_METHOD_NOT_ALLOWED");
  });

  it("answers 404 for unknown paths, including extra segments", async () => {
    for (const path of ["/nope", "/healthz/extra", "/api/share/x/sync/more"]) {
      const { response } = await answer(request("GET", path));
      expect(response.status, path).toBe(404);
      expect(response.headers?.["cache-control"], path).toBe("no-store");
      expect(response.headers?.["content-type"], path).toMatch(/^application\/json/);
      expect(JSON.parse(String(response.body)).error.code).toBe("ERR_NOT_FOUND");
    }
  });

  it("does not match a :param segment that is not valid percent-encoding", async () => {
    const { response } = await answer(request("POST", "/api/share/%E0%A4%A/sync"));
    expect(response.status).toBe(404);
  });

  it("hands what a route throws to its host, with the route's pattern", async () => {
    const routed = await router.handle(request("GET", "/broken"));
    expect(routed).toEqual({ route: "/broken", error: new Error("boom") });
  });
});
