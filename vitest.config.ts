import { defineConfig } from "vitest/config";

// Unit tests sit beside the code in src/; anything that opens a port, spawns the CLI or
// starts a service lives in test/. CI=true turns a missing service into a failure.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    allowOnly: false,
    reporters: process.env.CI
      ? ["default", ["json", { outputFile: "test-artifacts/vitest.json" }]]
      : ["default"],
  },
});
