// The statements a group of store writes becomes. Writes made in one event turn share one
// Postgres transaction (one commit, one WAL flush), like LMDB's per-turn batches; inside it they
// apply in call order. Adjacent puts become one multi-row upsert and adjacent deletes one
// `DELETE … = ANY`, so a batch of many chunks is a few round trips, not one per key.

import { entriesTable } from "./postgres-schema.js";
import type { EncodedExpect, EncodedOp } from "./store-batch.js";
import type { ByteRange } from "./store-key.js";

/** One step of a write group, in call order. */
export type WriteStep =
  | {
      readonly type: "ops";
      readonly ops: readonly EncodedOp[];
      /** Conditions checked before the ops apply (postgres-store.ts); none here. */
      readonly expects?: readonly EncodedExpect[];
    }
  | { readonly type: "deletePrefix"; readonly range: ByteRange };

/** A parameterized statement. */
export interface Statement {
  readonly text: string;
  readonly values: unknown[];
}

const upsert = `INSERT INTO ${entriesTable} (key, value)
  SELECT * FROM unnest($1::bytea[], $2::bytea[])
  ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`;
const deleteKeys = `DELETE FROM ${entriesTable} WHERE key = ANY($1::bytea[])`;
const deleteRange = `DELETE FROM ${entriesTable} WHERE key >= $1 AND key < $2`;

/**
 * The statements that apply `steps` in order. A run of puts keeps the last value of each key
 * (one upsert may not touch a row twice); a delete between two puts of a key splits the run.
 */
export function statementsOf(steps: readonly WriteStep[]): Statement[] {
  const statements: Statement[] = [];
  let puts = new Map<string, EncodedOp>();
  let deletes = new Map<string, Buffer>();
  const flushPuts = () => {
    if (puts.size === 0) return;
    const ops = [...puts.values()];
    statements.push({ text: upsert, values: [ops.map((op) => op.key), ops.map((op) => op.value)] });
    puts = new Map();
  };
  const flushDeletes = () => {
    if (deletes.size === 0) return;
    statements.push({ text: deleteKeys, values: [[...deletes.values()]] });
    deletes = new Map();
  };
  for (const step of steps) {
    if (step.type === "deletePrefix") {
      flushPuts();
      flushDeletes();
      // A non-empty prefix always has an upper bound (store-key.ts).
      statements.push({ text: deleteRange, values: [step.range.start, step.range.end] });
      continue;
    }
    for (const op of step.ops) {
      const id = op.key.toString("latin1");
      if (op.value === undefined) {
        if (puts.size > 0) flushPuts();
        deletes.set(id, op.key);
      } else {
        if (deletes.size > 0) flushDeletes();
        puts.set(id, op); // the last value of a key in the run wins, as applied in order would
      }
    }
  }
  flushPuts();
  flushDeletes();
  return statements;
}
