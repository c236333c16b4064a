// Channel names: what a user types after --channel. Short, printable, no whitespace, so they are
// safe in logs, metrics labels and file names.

import { createError } from "../protocol/errors.js";

const pattern = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;

/** Returns `name` when it is a valid channel name, else throws ERR_INVALID_CHANNEL. */
export function parseChannelName(name: string): string {
  if (typeof name !== "string" || !pattern.test(name)) {
    throw createError(
      "ERR_INVALID_CHANNEL",
      `channel ${JSON.stringify(name)} is not valid: 1–128 characters of letters, digits and . _ : @ / -, starting with a letter or digit`,
    );
  }
  return name;
}
