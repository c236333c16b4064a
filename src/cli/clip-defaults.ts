// The defaults of `syncline clip`, apart from the command so that `--help` loads none of it.

export const clipDefaults = {
  /** The channel a user's devices share. */
  channel: "clipboard",
  /** Larger items are neither sent nor applied: a 4K screenshot as PNG is 5–15 MiB. */
  maxBytes: 16 * 1024 * 1024,
  /**
   * How often the clipboard is read where the platform gives no change notice, ms: with the
   * debounce, what a copy may wait before it is sent (the target is a paste within 500 ms, p99).
   * A read runs the platform's tool twice (types, then content).
   */
  pollIntervalMs: 200,
  /** How long a copy must stay before it is sent, ms: a burst of copies sends only its last. */
  debounceMs: 100,
} as const;
