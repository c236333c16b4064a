import { describe, expect, it } from "vitest";
import { closestName, didYouMean } from "./did-you-mean.js";

describe("did you mean", () => {
  it("finds a misspelt key, a swapped pair and a missing letter", () => {
    expect(closestName("sever", ["server", "timeout", "retries"])).toBe("server");
    expect(closestName("prot", ["port", "host"])).toBe("port");
    expect(closestName("retires", ["retries", "timeout"])).toBe("retries");
    expect(closestName("srever", ["server", "sync", "share", "transport"])).toBe("server");
  });

  it("suggests nothing when no name is close", () => {
    expect(closestName("colour", ["server", "port"])).toBeUndefined();
    expect(didYouMean("xyz", ["server"])).toBe("");
    expect(didYouMean("sever", ["server"])).toBe(' (did you mean "server"?)');
  });
});
