// What the transport endpoint (/wire) and its channels report: connections, refusals by reason,
// frame bytes, transfers, slow readers, and the channels' memory and kept bytes. Part of the
// server's registry (metrics.ts).

import { Counter, Gauge, type Registry } from "prom-client";

/** What the transport endpoint and its channels report. */
export interface WireMetrics {
  /** Authenticated /wire connections now. */
  readonly connections: Gauge;
  /** Handshakes refused or failed, by reason (the error code). */
  readonly authFailures: Counter<"reason">;
  /** Bytes of frames received (in) and sent (out), headers included. */
  readonly bytes: Counter<"direction">;
  /** Channel transfers: uploads and deliveries, started, completed and failed. */
  readonly transfers: Counter<"kind" | "event">;
  /** Deliveries dropped for holding a relayed payload back (ERR_STREAM_SLOW_READER). */
  readonly slowReaders: Counter;
  /** Payload bytes channels hold in memory now (read at scrape time). */
  readonly bufferedBytes: Gauge;
  /** Bytes the kept channel payloads announce, by where (store, spool); what the limits bound. */
  readonly keptBytes: Gauge<"where">;
  /** Channels in memory now. */
  readonly channels: Gauge;
  /** Sets what fills the three gauges above and brings `bytes` up to date, at each scrape. */
  sampleWith(sample: () => void): void;
}

/** The transport's metrics, registered in `registry`. */
export function createWireMetrics(registry: Registry): WireMetrics {
  const registers = [registry];
  let sampler: (() => void) | undefined;
  const collect = () => sampler?.();
  return {
    sampleWith(sample) {
      sampler = sample;
    },
    connections: new Gauge({
      name: "syncline_wire_connections",
      help: "Authenticated /wire connections.",
      registers,
    }),
    authFailures: new Counter({
      name: "syncline_wire_auth_failures_total",
      help: "/wire handshakes refused or failed, by reason (error code).",
      labelNames: ["reason"],
      registers,
    }),
    bytes: new Counter({
      name: "syncline_wire_bytes_total",
      help: "Bytes of /wire frames, by direction (in, out).",
      labelNames: ["direction"],
      registers,
      collect, // the endpoint sums frame bytes and adds them when sampled
    }),
    transfers: new Counter({
      name: "syncline_wire_transfers_total",
      help: "Channel transfers, by kind (upload, delivery) and event (started, completed, failed).",
      labelNames: ["kind", "event"],
      registers,
    }),
    slowReaders: new Counter({
      name: "syncline_wire_slow_readers_total",
      help: "Channel deliveries dropped for holding a relayed payload back without reading.",
      registers,
    }),
    bufferedBytes: new Gauge({
      name: "syncline_channel_buffered_bytes",
      help: "Payload bytes channels hold in memory.",
      registers,
      collect,
    }),
    keptBytes: new Gauge({
      name: "syncline_channel_kept_bytes",
      help: "Bytes the payloads channels keep announce, by where (store, spool).",
      labelNames: ["where"],
      registers,
      collect,
    }),
    channels: new Gauge({
      name: "syncline_channel_channels",
      help: "Channels in memory.",
      registers,
      collect,
    }),
  };
}
