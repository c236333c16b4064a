// Text from peers (a payload's name, a server's refusal) shown on a terminal: its control
// characters are written as visible escapes (`\x1b`), so a sender cannot move the cursor, retitle
// the window, clear the screen or fake a line of our output with escape sequences.

/**
 * C0 controls and DEL, C1 controls (U+0080–U+009F: U+009B is a one-character CSI on some
 * terminals), and the invisible characters that reorder or break lines (bidi overrides and
 * isolates, the Unicode line and paragraph separators).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is its job
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `text` with every control character written as an escape: `\x1b`, `\x07`, `\u202e`. With
 * `keepNewlines`, a line feed stays one (our own multi-line messages), nothing else does.
 */
export function printable(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(unsafe, (char) => {
    if (char === "\n" && options.keepNewlines) return char;
    const code = char.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * Characters JSON.stringify leaves as they are that a terminal may act on (C1 controls, bidi
 * controls, line separators); below U+0020 JSON escapes everything itself.
 */
const unsafeInJson = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `JSON.stringify(value)` with every character a terminal could act on written as a `\uXXXX`
 * escape: the same JSON value for a parser, inert on a terminal (`--json` output may be shown).
 */
export function terminalSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    unsafeInJson,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
