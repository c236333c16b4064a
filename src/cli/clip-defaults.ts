// The defaults of `syncline clip`, apart from the command so that `--help` loads none of it.

export const clipDefaults = {
  /** The channel a user's devices share. */
  channel: "clipboard",
  /** Larger items are neither sent nor applied: a 4K screenshot as PNG is 5–15 MiB. */
  maxBytes: 16 * 1024 * 1024,
  /** How often the clipboard is read where the platform gives no change notice, ms. */
  pollIntervalMs: 500,
  /** How long a copy must stay before it is sent, ms. */
  debounceMs: 250,
} as const;
