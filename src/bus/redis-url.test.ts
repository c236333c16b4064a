// The Redis URL check and its redaction: no password ever shows.

import { describe, expect, it } from "vitest";
import { checkRedisUrl, redactRedisUrl, redisUrlPassword } from "./redis-url.js";

describe("redis url", () => {
  it("masks the password, keeps the user, host, port and database, drops the query", () => {
    expect(redactRedisUrl("redis://:s3cret@10.0.0.5:6379/2")).toBe("redis://:***@10.0.0.5:6379/2");
    expect(redactRedisUrl("rediss://bus:p%40ss@redis.internal")).toBe(
      "rediss://bus:***@redis.internal",
    );
    expect(redactRedisUrl("redis://bus@127.0.0.1:7000")).toBe("redis://bus@127.0.0.1:7000");
    expect(redactRedisUrl("redis://h:1?password=s3cret&db=1")).toBe("redis://h:1");
    expect(redactRedisUrl("not a url s3cret")).toBe("(a URL that cannot be parsed)");
  });

  it("finds the password to scrub, decoded, in the authority or the query", () => {
    expect(redisUrlPassword("redis://:p%40ss@h:1")).toBe("p@ss");
    expect(redisUrlPassword("redis://h:1?password=q")).toBe("q");
    expect(redisUrlPassword("redis://h:1")).toBeUndefined();
  });

  it("accepts redis:// and rediss:// URLs with a host, and refuses the rest without the password", () => {
    expect(() => checkRedisUrl("redis://127.0.0.1:6379")).not.toThrow();
    expect(() => checkRedisUrl("rediss://user:pw@redis.example:6380/1")).not.toThrow();
    for (const url of ["http://:s3cret@h:1", "redis://", "s3cret", "", 6379, undefined]) {
      let thrown: { code?: string; message?: string } = {};
      try {
        checkRedisUrl(url);
      } catch (error) {
        thrown = error as typeof thrown;
      }
      expect(thrown.code, String(url)).toBe("ERR_INVALID_CONFIG");
      expect(thrown.message).not.toContain("s3cret");
    }
  });
});
