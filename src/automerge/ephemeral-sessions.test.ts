import { describe, expect, it } from "vitest";
import { EphemeralSessions, type SessionLimits, sessionLimits } from "./ephemeral-sessions.js";

const small: SessionLimits = {
  maxSessionIdLength: 16,
  perSenderEntries: 3,
  perSenderBytes: 1024,
  totalEntries: 5,
  totalBytes: 4096,
  ttlMs: 1000,
};

function sessions(limits: SessionLimits = small) {
  const clock = { now: 0 };
  return { map: new EphemeralSessions<object>(limits, () => clock.now), clock };
}

describe("EphemeralSessions", () => {
  it("passes each (sender, session) count once, in increasing order", () => {
    const { map } = sessions();
    const [alice, bob] = [{}, {}];
    expect(map.see(alice, "s", 1)).toBe("new");
    expect(map.see(alice, "s", 1)).toBe("duplicate");
    expect(map.see(alice, "s", 0)).toBe("duplicate");
    expect(map.see(alice, "s", 2)).toBe("new");
    expect(map.see(bob, "s", 1)).toBe("new"); // another sender's session of the same name
    expect(map.size).toBe(2);
  });

  it("refuses a session id longer than the limit, and keeps nothing of it", () => {
    const { map } = sessions();
    expect(map.see({}, "x".repeat(17), 1)).toBe("refused");
    expect(map.size).toBe(0);
    expect(map.bytes).toBe(0);
    expect(new EphemeralSessions().see({}, "x".repeat(8 * 1024 * 1024), 1)).toBe("refused");
  });

  it("keeps at most a sender's share, forgetting its least recently used first", () => {
    const { map } = sessions();
    const alice = {};
    for (const id of ["a", "b", "c"]) map.see(alice, id, 1);
    map.see(alice, "a", 2); // a is used again: b is now the oldest
    map.see(alice, "d", 1);
    expect(map.size).toBe(3);
    expect(map.see(alice, "b", 1)).toBe("new"); // forgotten, so new again
    expect(map.see(alice, "a", 2)).toBe("duplicate");
  });

  it("keeps at most the total, across senders, and counts bytes", () => {
    const { map } = sessions();
    const senders = Array.from({ length: 4 }, () => ({}));
    for (const sender of senders) {
      map.see(sender, "one", 1);
      map.see(sender, "two", 1);
    }
    expect(map.size).toBe(5);
    expect(map.see(senders[0] as object, "one", 1)).toBe("new"); // the oldest went first
    const { map: byBytes } = sessions({ ...small, totalEntries: 100, totalBytes: 500 });
    for (let i = 0; i < 10; i++) byBytes.see({}, `session-${i}`, 1);
    expect(byBytes.bytes).toBeLessThanOrEqual(500);
    expect(byBytes.size).toBe(4); // "session-N": 9 characters, 18 + 96 bytes each
  });

  it("forgets entries unused for the time to live", () => {
    const { map, clock } = sessions();
    const alice = {};
    map.see(alice, "old", 5);
    clock.now = 600;
    map.see(alice, "recent", 1);
    clock.now = 1100;
    expect(map.see(alice, "recent", 1)).toBe("duplicate");
    expect(map.size).toBe(1); // "old" expired
    expect(map.see(alice, "old", 5)).toBe("new");
  });

  it("forgets every session of a sender that left", () => {
    const { map } = sessions();
    const [alice, bob] = [{}, {}];
    map.see(alice, "a", 1);
    map.see(alice, "b", 1);
    map.see(bob, "a", 1);
    map.forget(alice);
    expect(map.size).toBe(1);
    expect(map.see(alice, "a", 1)).toBe("new");
  });

  it("bounds the server's map by entries and bytes whatever is sent", () => {
    const map = new EphemeralSessions<object>();
    const sender = {};
    for (let i = 0; i < 1000; i++) map.see(sender, `${i}`.padEnd(256, "x"), 1);
    expect(map.size).toBeLessThanOrEqual(sessionLimits.perSenderEntries);
    expect(map.bytes).toBeLessThanOrEqual(sessionLimits.perSenderBytes);
    for (let i = 0; i < 30_000; i++) map.see({}, `${i}`.padEnd(256, "x"), 1);
    expect(map.bytes).toBeLessThanOrEqual(sessionLimits.totalBytes);
    expect(map.bytes).toBeGreaterThan(sessionLimits.totalBytes - 1024);
  });
});
