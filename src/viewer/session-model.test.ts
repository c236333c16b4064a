import { describe, expect, it } from "vitest";
import { isVisiblePart } from "./part-filter.js";
import { buildSessionView, modelOf, untitled } from "./session-model.js";

const sid = "ses_0123456789abcdef";

function state(entries: Record<string, unknown>): Map<string, unknown> {
  return new Map(Object.entries(entries));
}
const msgKey = (id: string) => `session/message/${sid}/${id}`;
const partKey = (m: string, p: string) => `session/part/${sid}/${m}/${p}`;
const part = (m: string, p: string, fields: Record<string, unknown>) => ({
  [partKey(m, p)]: { id: p, sessionID: sid, messageID: m, ...fields },
});

describe("part filter (the original viewer's rules)", () => {
  it("shows a step-start only as the first part of its message", () => {
    expect(isVisiblePart({ type: "step-start" }, 0)).toBe(true);
    expect(isVisiblePart({ type: "step-start" }, 1)).toBe(false);
    expect(isVisiblePart({ type: "step-start" }, 5)).toBe(false);
  });

  it("hides empty reasoning, shows reasoning with text", () => {
    expect(isVisiblePart({ type: "reasoning", text: "" }, 0)).toBe(false);
    expect(isVisiblePart({ type: "reasoning", text: " \n" }, 0)).toBe(false);
    expect(isVisiblePart({ type: "reasoning" }, 0)).toBe(false);
    expect(isVisiblePart({ type: "reasoning", text: "hmm" }, 0)).toBe(true);
  });

  it("hides snapshot, patch and step-finish", () => {
    for (const type of ["snapshot", "patch", "step-finish"]) {
      expect(isVisiblePart({ type }, 0)).toBe(false);
      expect(isVisiblePart({ type }, 3)).toBe(false);
    }
  });

  it("hides synthetic and empty text, shows other text", () => {
    expect(isVisiblePart({ type: "text", text: "hi", synthetic: true }, 0)).toBe(false);
    expect(isVisiblePart({ type: "text", text: "" }, 0)).toBe(false);
    expect(isVisiblePart({ type: "text", text: "  \n" }, 0)).toBe(false);
    expect(isVisiblePart({ type: "text" }, 0)).toBe(false);
    expect(isVisiblePart({ type: "text", text: "hi", synthetic: false }, 0)).toBe(true);
  });

  it("hides tools still pending or running, shows completed, errored and odd ones", () => {
    expect(isVisiblePart({ type: "tool", state: { status: "pending" } }, 0)).toBe(false);
    expect(isVisiblePart({ type: "tool", state: { status: "running" } }, 0)).toBe(false);
    expect(isVisiblePart({ type: "tool", state: { status: "completed" } }, 0)).toBe(true);
    expect(isVisiblePart({ type: "tool", state: { status: "error" } }, 0)).toBe(true);
    expect(isVisiblePart({ type: "tool" }, 0)).toBe(true);
    expect(isVisiblePart({ type: "tool", state: null }, 0)).toBe(true);
  });

  it("shows reasoning, files, agents and unknown types", () => {
    for (const type of ["file", "agent", "subtask", "retry", "compaction", "x-new"]) {
      expect(isVisiblePart({ type }, 2)).toBe(true);
    }
    expect(isVisiblePart({ type: "reasoning", text: "why" }, 2)).toBe(true);
    expect(isVisiblePart({}, 0)).toBe(true);
  });
});

describe("buildSessionView", () => {
  it("is empty and untitled for an empty state", () => {
    const view = buildSessionView(new Map());
    expect(view.title).toBe(untitled);
    expect(view.messages).toEqual([]);
    expect(view.totals.cost).toBe(0);
    expect(view.totals.models).toEqual([]);
    expect(view.diff).toBeUndefined();
  });

  it("takes the title from the session info", () => {
    const view = buildSessionView(
      state({ [`session/info/${sid}`]: { id: sid, title: "Fix the build", time: { created: 1 } } }),
    );
    expect(view.title).toBe("Fix the build");
    expect(view.sessionID).toBe(sid);
  });

  it("sorts messages and their parts by id ascending, whatever the map order", () => {
    const view = buildSessionView(
      state({
        [msgKey("msg_03")]: { id: "msg_03", role: "assistant", time: { created: 3 } },
        ...part("msg_01", "prt_02", { type: "text", text: "second" }),
        [msgKey("msg_01")]: { id: "msg_01", role: "user", time: { created: 1 } },
        ...part("msg_01", "prt_01", { type: "text", text: "first" }),
        [msgKey("msg_02")]: { id: "msg_02", role: "assistant", time: { created: 2 } },
      }),
    );
    expect(view.messages.map((m) => m.id)).toEqual(["msg_01", "msg_02", "msg_03"]);
    expect(view.messages[0]?.parts.map((p) => p.data.text)).toEqual(["first", "second"]);
    expect(view.messages[0]?.role).toBe("user");
  });

  it("applies the filter by position in the id-sorted parts", () => {
    const view = buildSessionView(
      state({
        [msgKey("m1")]: {
          id: "m1",
          role: "assistant",
          time: { created: 1 },
          providerID: "anthropic",
          modelID: "claude",
        },
        ...part("m1", "p1", { type: "step-start" }),
        ...part("m1", "p2", { type: "text", text: "hello" }),
        ...part("m1", "p3", { type: "step-finish", reason: "stop" }),
        ...part("m1", "p4", { type: "step-start" }),
        ...part("m1", "p5", { type: "snapshot", snapshot: "abc" }),
        ...part("m1", "p6", { type: "patch", hash: "h", files: [] }),
        ...part("m1", "p7", { type: "text", text: "", synthetic: false }),
        ...part("m1", "p8", { type: "text", text: "sys", synthetic: true }),
        ...part("m1", "p9", {
          type: "tool",
          tool: "bash",
          state: { status: "running", input: {} },
        }),
        ...part("m1", "pa", { type: "tool", tool: "bash", state: { status: "completed" } }),
        ...part("m1", "pb", { type: "mystery", value: 1 }),
        ...part("m1", "pc", { type: "tool", tool: "todoread", state: { status: "completed" } }),
      }),
    );
    expect(view.messages[0]?.parts.map((p) => p.id)).toEqual(["p1", "p2", "pa", "pb"]);
  });

  it("drops a first step-start whose message names no model: never a bare step label", () => {
    const view = buildSessionView(
      state({
        [msgKey("m1")]: { id: "m1", role: "assistant", time: { created: 1 } },
        ...part("m1", "p1", { type: "step-start" }),
        ...part("m1", "p2", { type: "text", text: "hello" }),
      }),
    );
    expect(view.messages[0]?.parts.map((p) => p.id)).toEqual(["p2"]);
  });

  it("sums cost and tokens over assistant messages only and lists the models used", () => {
    const view = buildSessionView(
      state({
        [msgKey("m1")]: {
          id: "m1",
          role: "user",
          time: { created: 1 },
          model: { providerID: "anthropic", modelID: "claude" },
          cost: 100,
          tokens: { input: 1000, output: 1000 },
        },
        [msgKey("m2")]: {
          id: "m2",
          role: "assistant",
          time: { created: 2, completed: 5 },
          providerID: "anthropic",
          modelID: "claude",
          cost: 0.25,
          tokens: { input: 10, output: 20, reasoning: 5, cache: { read: 100, write: 7 } },
        },
        [msgKey("m3")]: {
          id: "m3",
          role: "assistant",
          time: { created: 6 },
          providerID: "openai",
          modelID: "gpt",
          cost: 0.5,
          tokens: { input: 1, output: 2 },
        },
        [msgKey("m4")]: {
          id: "m4",
          role: "assistant",
          time: 7,
          model: { providerID: "anthropic", modelID: "claude" },
        },
        [`session/model/${sid}`]: [{ id: "claude", providerID: "anthropic", name: "Claude" }],
      }),
    );
    expect(view.totals.cost).toBeCloseTo(0.75);
    expect(view.totals.tokens).toEqual({
      input: 11,
      output: 22,
      reasoning: 5,
      cacheRead: 100,
      cacheWrite: 7,
    });
    expect(view.totals.models.map((m) => m.name)).toEqual(["Claude", "gpt"]);
    expect(view.totals.messages).toBe(4);
  });

  it("accepts both assistant message shapes", () => {
    const view = buildSessionView(
      state({
        [msgKey("a")]: {
          id: "a",
          role: "assistant",
          time: { created: 1000, completed: 2500 },
          providerID: "p",
          modelID: "new",
        },
        [msgKey("b")]: {
          id: "b",
          role: "assistant",
          time: 3000,
          model: { providerID: "p", modelID: "old" },
        },
      }),
    );
    const [a, b] = view.messages;
    expect([a?.created, a?.completed, a?.model?.modelID]).toEqual([1000, 2500, "new"]);
    expect([b?.created, b?.completed, b?.model?.modelID]).toEqual([3000, undefined, "old"]);
    expect(modelOf({})).toBeUndefined();
  });

  it("keeps parts whose message has not arrived under a placeholder", () => {
    const view = buildSessionView(state(part("m9", "p1", { type: "text", text: "early" })));
    expect(view.messages).toHaveLength(1);
    expect(view.messages[0]?.role).toBe("unknown");
    expect(view.messages[0]?.data).toBeUndefined();
    expect(view.messages[0]?.key).toBe(msgKey("m9"));
  });

  it("reads the session diff (file or path) and skips malformed entries", () => {
    const view = buildSessionView(
      state({
        [`session/diff/${sid}`]: [
          { file: "a.ts", additions: 2, deletions: 1, patch: "@@ -1 +1 @@\n-x\n+y" },
          { path: "b.ts", additions: 3, deletions: 0, status: "added" },
          "junk",
        ],
      }),
    );
    expect(view.diff?.map((f) => [f.file, f.additions, f.deletions, f.status])).toEqual([
      ["a.ts", 2, 1, undefined],
      ["b.ts", 3, 0, "added"],
    ]);
  });

  it("ignores keys outside the schema, null contents and malformed values without throwing", () => {
    const view = buildSessionView(
      state({
        "share/seq": 12,
        "session/share/x": { secret: "s" },
        "other/key": {},
        [`session/info/${sid}`]: "not an object",
        [msgKey("m1")]: null,
        [msgKey("m2")]: [1, 2],
        [msgKey("m3")]: { id: "m3", role: 42, time: "yesterday", cost: "a lot", tokens: "many" },
        ...part("m3", "p1", { type: 7, text: "x" }),
        [partKey("m3", "p2")]: null,
        [`session/diff/${sid}`]: { not: "an array" },
      }),
    );
    expect(view.title).toBe(untitled);
    expect(view.messages.map((m) => [m.id, m.role])).toEqual([["m3", "unknown"]]);
    expect(view.messages[0]?.parts.map((p) => p.type)).toEqual([""]);
    expect(view.totals.cost).toBe(0);
    expect(view.diff).toBeUndefined();
  });
});
