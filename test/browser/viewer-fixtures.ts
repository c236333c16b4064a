// Shares the browser tests publish: a short live session, and a session with a part of every
// kind the viewer renders (markdown, each tool, diffs, todos), hostile HTML in every place share
// content reaches the page.

export const fixedNow = Date.UTC(2026, 10, 30, 2, 0, 0);

/** Hostile HTML: an element or a script running would set window.__xss. */
export const xss = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;

type Item = { type: string; data: unknown };

/** A part item of `sessionID`. */
export function partItem(sessionID: string, messageID: string, id: string, fields: object): Item {
  return { type: "part", data: { id, sessionID, messageID, ...fields } };
}

/** A completed tool part. */
export function toolItem(
  sessionID: string,
  messageID: string,
  id: string,
  tool: string,
  state: object,
): Item {
  return partItem(sessionID, messageID, id, {
    type: "tool",
    callID: `call_${id}`,
    tool,
    state: { status: "completed", time: { start: fixedNow, end: fixedNow + 40 }, ...state },
  });
}

export const markdownText = [
  "# Login fixed",
  "",
  "The **login** now works. See [the docs](https://example.org/docs) and `auth.ts`.",
  "",
  "- first point",
  "- second point",
  "",
  "| file | change |",
  "| ---- | ------ |",
  "| auth.ts | token refresh |",
  "",
  "```ts",
  "const answer: number = 42;",
  "```",
  "",
  `Raw HTML stays text: ${xss}`,
  "",
  "[click me](javascript:window.__xss=3) and ![pic](https://example.org/x.png)",
  "",
  "```html",
  "<script>window.__xss=4</script>",
  "```",
].join("\n");

const editDiff = [
  "Index: /work/app/src/auth.ts",
  "===================================================================",
  "--- /work/app/src/auth.ts",
  "+++ /work/app/src/auth.ts",
  "@@ -1,3 +1,3 @@",
  " export function login() {",
  "-  return false;",
  "+  return true;",
  " }",
  "",
].join("\n");

/** One assistant reply with a part of every kind, then a short last reply. */
export function partKindItems(sessionID: string): Item[] {
  const p = (id: string, fields: object) => partItem(sessionID, "msg_02", id, fields);
  const tool = (id: string, name: string, state: object) =>
    toolItem(sessionID, "msg_02", id, name, state);
  const long = Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n");
  return [
    {
      type: "session",
      data: {
        id: sessionID,
        title: `Fix <b>login</b> ${xss}`,
        directory: "/work/app",
        time: { created: fixedNow, updated: fixedNow },
      },
    },
    {
      type: "message",
      data: { id: "msg_01", sessionID, role: "user", time: { created: fixedNow } },
    },
    partItem(sessionID, "msg_01", "prt_01", {
      type: "text",
      text: `Please fix the login.\nIt fails.\nEvery time.\nSince Monday.\nAlso ${xss}`,
    }),
    {
      type: "message",
      data: {
        id: "msg_02",
        sessionID,
        role: "assistant",
        time: { created: fixedNow + 1000, completed: fixedNow + 9000 },
        providerID: "anthropic",
        modelID: "claude-test",
        cost: 0.5,
        tokens: { input: 10, output: 20, reasoning: 0, cache: { read: 0, write: 0 } },
      },
    },
    p("prt_01", { type: "step-start" }),
    p("prt_02", { type: "text", text: markdownText }),
    tool("prt_03", "bash", {
      input: { command: "seq 100", description: "Count to a hundred" },
      output: long,
      metadata: { output: long },
    }),
    tool("prt_04", "bash", { input: { command: "true" }, output: "", metadata: {} }),
    tool("prt_05", "read", {
      input: { filePath: "/work/app/src/auth.ts" },
      output: "<file>…</file>",
      metadata: { preview: "export const token = 'abc';" },
    }),
    tool("prt_06", "write", {
      input: { filePath: "/work/app/run.py", content: "def main():\n    return 1\n" },
      output: "",
      metadata: {},
    }),
    tool("prt_07", "edit", {
      input: { filePath: "/work/app/src/auth.ts" },
      output: "",
      metadata: { diff: editDiff },
    }),
    tool("prt_08", "edit", {
      input: { filePath: "/work/app/README.md" },
      output: "",
      metadata: { filediff: { file: "README.md", before: "# App\nold\n", after: "# App\nnew\n" } },
    }),
    tool("prt_09", "todowrite", {
      input: {
        todos: [
          { content: "write tests", status: "completed" },
          { content: "ship it", status: "pending" },
          { content: "fix login", status: "in_progress" },
        ],
      },
      output: "",
      metadata: {},
    }),
    tool("prt_10", "grep", {
      input: { pattern: "login" },
      output: "src/auth.ts:1: login",
      metadata: { matches: 3 },
    }),
    tool("prt_11", "glob", {
      input: { pattern: "**/*.ts" },
      output: "a.ts\nb.ts",
      metadata: { count: 2 },
    }),
    tool("prt_12", "list", {
      input: { path: "/work/app" },
      output: "src/\nREADME.md",
      metadata: {},
    }),
    tool("prt_13", "webfetch", {
      input: { url: "https://example.org/page", format: "markdown" },
      output: "# Page",
      metadata: {},
    }),
    tool("prt_14", "task", {
      input: { description: "Review the fix", prompt: "Review it" },
      output: "Looks **good**.",
      metadata: {},
    }),
    tool("prt_15", "mcp_lookup", {
      input: { query: "tokens", filters: { tags: ["auth", "web"] } },
      output: xss,
      metadata: {},
    }),
    p("prt_16", {
      type: "tool",
      callID: "c16",
      tool: "bash",
      state: {
        status: "error",
        input: { command: "rm -rf /" },
        error: "Error: permission denied",
        time: { start: fixedNow, end: fixedNow + 3500 },
      },
    }),
    p("prt_17", { type: "step-start" }),
    tool("prt_18", "todoread", { input: {}, output: "[]", metadata: {} }),
    p("prt_19", { type: "step-finish", reason: "stop" }),
    {
      type: "message",
      data: {
        id: "msg_03",
        sessionID,
        role: "assistant",
        time: { created: fixedNow + 10_000, completed: fixedNow + 12_000 },
      },
    },
    partItem(sessionID, "msg_03", "prt_01", { type: "step-start" }),
    partItem(sessionID, "msg_03", "prt_02", { type: "text", text: `Done.\n\n${long}` }),
    {
      type: "session_diff",
      data: [
        {
          file: "src/auth.ts",
          before: "a\nb\nc\n",
          after: "a\nB\nc\n",
          additions: 1,
          deletions: 1,
        },
      ],
    },
  ];
}

/** A session whose one assistant message (older shape) carries a part of every other kind. */
export function olderShapeItems(session: string): unknown[] {
  const part = (id: string, fields: object) => ({
    type: "part",
    data: { id, sessionID: session, messageID: "msg_01", ...fields },
  });
  return [
    { type: "session", data: { id: session, title: "Every kind of part" } },
    {
      type: "message",
      data: {
        id: "msg_01",
        sessionID: session,
        role: "assistant",
        time: fixedNow,
        cost: 1.5,
        model: { providerID: "old-provider", modelID: "old-model" },
      },
    },
    part("prt_01", { type: "step-start" }),
    part("prt_02", { type: "text", text: "Plain text", sparkle: true }),
    part("prt_03", { type: "step-start" }),
    part("prt_04", {
      type: "file",
      mime: "text/plain",
      filename: "notes.txt",
      url: "data:text/plain;base64,aGk=",
    }),
    part("prt_05", { type: "agent", name: "reviewer" }),
    part("prt_06", {
      type: "subtask",
      prompt: "run them",
      description: "check the tests",
      agent: "tester",
    }),
    part("prt_07", {
      type: "retry",
      attempt: 2,
      error: { name: "APIError", data: { message: "rate limited" } },
    }),
    part("prt_08", { type: "compaction", auto: true }),
    part("prt_09", {
      type: "tool",
      callID: "c9",
      tool: "write",
      state: {
        status: "error",
        input: { path: "/etc/x" },
        error: "permission denied",
        time: { start: fixedNow, end: fixedNow + 1 },
      },
    }),
    part("prt_10", {
      type: "tool",
      callID: "c10",
      tool: "bash",
      state: {
        status: "completed",
        input: { command: "seq 100" },
        output: Array.from({ length: 100 }, (_, i) => `line ${i}`).join("\n"),
        title: "seq 100",
        metadata: {},
        time: { start: fixedNow, end: fixedNow + 5 },
      },
    }),
    part("prt_11", { type: "hologram", beam: "on" }),
  ];
}
