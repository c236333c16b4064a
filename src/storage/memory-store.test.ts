// The memory driver against the shared conformance suite.

import { createMemoryStore } from "./memory-store.js";
import { runStoreTests } from "./testing/run-store-tests.js";

runStoreTests("memory", async () => ({ store: createMemoryStore() }));
