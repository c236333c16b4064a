// The bus package's public surface: the Bus interface, its drivers and the envelope they share.
// The conformance suite is apart, in testing/run-bus-tests.ts. The server loads the Redis
// driver by dynamic import of redis-bus.js, so a node without Redis never loads ioredis.

export type {
  Bus,
  BusDriverOptions,
  BusErrorContext,
  BusErrorListener,
  BusHandler,
  BusStatus,
} from "./bus.js";
export {
  type BusEnvelope,
  type BusEnvelopeResult,
  busEnvelopeVersion,
  decodeBusEnvelope,
  encodeBusEnvelope,
} from "./bus-envelope.js";
export { createMemoryBusNetwork, type MemoryBusNetwork } from "./memory-bus.js";
export { openRedisBus, type RedisBusOptions } from "./redis-bus.js";
