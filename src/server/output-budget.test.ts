import { afterEach, describe, expect, it } from "vitest";
import { OutputBudget, type OutputStream } from "./output-budget.js";

/** A stream whose queued bytes the test sets, recording why it was cut. */
type TestStream = OutputStream & { queued: number; taken: number; cutFor?: string };

function stream(endpoint = "share"): TestStream {
  const made: TestStream = {
    endpoint,
    queued: 0,
    taken: 0,
    buffered: () => made.queued,
    progress: () => made.taken,
    cut: (reason) => {
      made.cutFor = reason;
    },
  };
  return made;
}

let budget: OutputBudget | undefined;
afterEach(() => budget?.stop());

describe("OutputBudget", () => {
  it("cuts a connection that stays over its bound for the grace period, not before", () => {
    const cuts: string[] = [];
    budget = new OutputBudget({
      perConnectionBytes: 1000,
      totalBytes: 1_000_000,
      graceMs: 5000,
      checkIntervalMs: 60_000,
      onCut: (s, _reason, bytes) => cuts.push(`${s.endpoint}:${bytes}`),
    });
    const slow = stream("automerge");
    const reading = stream();
    budget.track(slow);
    budget.track(reading);
    slow.queued = 5000;
    reading.queued = 5000;
    budget.check(0);
    reading.queued = 10; // it read what it was sent
    reading.taken += 4990;
    slow.taken += 1; // a trickle keeps it from being stalled, not under its bound
    budget.check(4000);
    expect(slow.cutFor).toBeUndefined();
    budget.check(5000);
    expect(slow.cutFor).toMatch(/more than 1000 bytes unread for 5000 ms/);
    expect(reading.cutFor).toBeUndefined();
    expect(cuts).toEqual(["automerge:5000"]);
    expect(budget.totalBuffered).toBe(10);
  });

  it("over the total, cuts the connections with the most queued first, at once", () => {
    budget = new OutputBudget({
      perConnectionBytes: 10_000,
      totalBytes: 10_000,
      graceMs: 60_000,
      checkIntervalMs: 60_000,
    });
    const [a, b, c] = [stream(), stream(), stream()];
    for (const s of [a, b, c]) budget.track(s);
    a.queued = 6000;
    b.queued = 3000;
    c.queued = 4000;
    budget.check(0);
    expect(a.cutFor).toMatch(/output budget of 10000 bytes is full/);
    expect(b.cutFor).toBeUndefined();
    expect(c.cutFor).toBeUndefined();
    expect(budget.totalBuffered).toBe(7000);
  });

  it("cuts a reader that takes nothing of a little queued data for the grace period", () => {
    budget = new OutputBudget({
      perConnectionBytes: 1_000_000,
      totalBytes: 10_000_000,
      graceMs: 5000,
      checkIntervalMs: 60_000,
    });
    const stalled = stream();
    const idle = stream();
    const trickling = stream();
    for (const s of [stalled, idle, trickling]) budget.track(s);
    stalled.queued = 100;
    trickling.queued = 100;
    budget.check(0);
    trickling.taken += 10;
    budget.check(3000);
    trickling.taken += 10;
    budget.check(6000);
    expect(stalled.cutFor).toMatch(/read nothing of what it was sent for 5000 ms/);
    expect(idle.cutFor).toBeUndefined(); // nothing queued: nothing to read
    expect(trickling.cutFor).toBeUndefined();
  });

  it("admits one message to an empty connection, however large, and nothing past the bounds", () => {
    budget = new OutputBudget({
      perConnectionBytes: 1000,
      totalBytes: 3000,
      graceMs: 60_000,
      checkIntervalMs: 60_000,
    });
    const s = stream();
    const tracked = budget.track(s);
    expect(tracked.admits(2500)).toBe(true); // nothing queued yet
    s.queued = 2500;
    expect(tracked.admits(10)).toBe(false); // over its own bound
    const other = budget.track(stream());
    expect(other.admits(400)).toBe(true);
    expect(other.admits(200)).toBe(false); // 2500 + 400 + 200 > 3000 in all
    tracked.untrack();
    budget.check(0);
    expect(budget.totalBuffered).toBe(0);
    expect(other.admits(200)).toBe(true);
  });
});
