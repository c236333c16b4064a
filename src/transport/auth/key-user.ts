// The user an authorized_keys line gives its key: `syncline-user="alice"`. A user is a named set
// of keys whose channels are their own; lines without the option form the default user, so a
// server with one user needs no option at all.

import type { RawKeyOption } from "./authorized-key-options.js";

/** The option's name (lower case, as the tokenizer gives names). */
export const keyUserOption = "syncline-user";

/** User names: short, printable, safe in logs, store keys and metrics labels. */
const userName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The user named by a line's options, or undefined when it names none. Throws an Error whose
 * message is the reason (the line is then malformed) for a bad name or two different ones.
 */
export function keyUserOf(options: readonly RawKeyOption[]): string | undefined {
  let user: string | undefined;
  for (const option of options) {
    if (option.name !== keyUserOption) continue;
    const value = option.value ?? "";
    if (!userName.test(value)) {
      throw new Error(
        `option "${keyUserOption}" value ${JSON.stringify(value.slice(0, 80))} is not a user name: 1–64 letters, digits and . _ -, starting with a letter or digit`,
      );
    }
    if (user !== undefined && user !== value) {
      throw new Error(`option "${keyUserOption}" names two users ("${user}", "${value}")`);
    }
    user = value;
  }
  return user;
}
