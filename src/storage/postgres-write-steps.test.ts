import { describe, expect, it } from "vitest";
import { statementsOf, type WriteStep } from "./postgres-write-steps.js";
import { encodeBatch } from "./store-batch.js";
import { prefixRangeBounds } from "./store-key.js";

const put = (key: string, value: string) => ({
  type: "put" as const,
  key: [key],
  value: Buffer.from(value),
});
const del = (key: string) => ({ type: "delete" as const, key: [key] });
const ops = (...list: Parameters<typeof encodeBatch>[0]): WriteStep => ({
  type: "ops",
  ops: encodeBatch(list).ops,
});
const kinds = (steps: WriteStep[]) =>
  statementsOf(steps).map((statement) => statement.text.trim().split(/\s+/)[0]);

describe("statementsOf", () => {
  it("turns adjacent puts of several writes into one upsert, the last value of a key winning", () => {
    const statements = statementsOf([ops(put("a", "1"), put("b", "2")), ops(put("a", "3"))]);
    expect(statements).toHaveLength(1);
    const [keys, values] = (statements[0]?.values ?? []) as [Buffer[], Buffer[]];
    expect(keys.map((key) => key.toString("latin1"))).toEqual(["a\0", "b\0"]);
    expect(values.map((value) => value.toString())).toEqual(["3", "2"]);
  });

  it("keeps call order where it matters: a delete between two puts of a key splits them", () => {
    expect(kinds([ops(put("a", "1"), del("a"), put("a", "2"))])).toEqual([
      "INSERT",
      "DELETE",
      "INSERT",
    ]);
    expect(kinds([ops(del("a"), del("b")), ops(del("c"))])).toEqual(["DELETE"]);
  });

  it("applies a prefix delete between what came before and after it", () => {
    const steps: WriteStep[] = [
      ops(put("a", "1")),
      { type: "deletePrefix", range: prefixRangeBounds(["a"]) },
      ops(put("a", "2")),
    ];
    const statements = statementsOf(steps);
    expect(statements.map((statement) => statement.text.trim().split(/\s+/)[0])).toEqual([
      "INSERT",
      "DELETE",
      "INSERT",
    ]);
    expect(statements[1]?.text).toContain("key >= $1 AND key < $2");
  });

  it("makes no statement for no steps", () => {
    expect(statementsOf([])).toEqual([]);
  });
});
