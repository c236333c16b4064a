// The original viewer's filter rules (as OpenCode's share page applies them): which parts of a message are shown.
// Pure, so the rules are tested on their own.

/**
 * True when the part at `index` (in its message's parts sorted by id) is shown. Hidden: every
 * `step-start` but the message's first part, `snapshot`, `patch`, `step-finish`, synthetic or
 * empty text, empty reasoning, tools still `pending` or `running`, and `todoread` calls (they only read back the
 * plan a `todowrite` showed). Everything else is shown, unknown types too.
 */
export function isVisiblePart(part: Readonly<Record<string, unknown>>, index: number): boolean {
  switch (part.type) {
    case "step-start":
      return index === 0;
    case "snapshot":
    case "patch":
    case "step-finish":
      return false;
    case "text":
      return part.synthetic !== true && typeof part.text === "string" && part.text.trim() !== "";
    case "reasoning":
      // A "Thinking" fold with nothing in it would be an empty box.
      return typeof part.text === "string" && part.text.trim() !== "";
    case "tool": {
      const state = part.state;
      const status =
        typeof state === "object" && state !== null
          ? (state as { status?: unknown }).status
          : undefined;
      return status !== "pending" && status !== "running" && part.tool !== "todoread";
    }
    default:
      return true;
  }
}
