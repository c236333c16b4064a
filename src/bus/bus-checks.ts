// What every bus driver checks the same way: instance ids, topics, payloads and handlers, and
// the default error listener. Bad arguments are programming errors: ERR_INVALID_OPTION.

import { randomBytes } from "node:crypto";
import { createError, describeError } from "../protocol/errors.js";
import type { BusErrorContext, BusErrorListener } from "./bus.js";
import { isValidSenderId } from "./bus-envelope.js";

/** A fresh instance id: 16 hex characters (64 random bits; collisions are not a concern). */
export function createInstanceId(): string {
  return randomBytes(8).toString("hex");
}

/** The given instance id, checked, or a fresh one. */
export function resolveInstanceId(driver: string, instanceId: string | undefined): string {
  if (instanceId === undefined) return createInstanceId();
  if (!isValidSenderId(instanceId)) {
    throw createError(
      "ERR_INVALID_OPTION",
      `${driver} bus: instanceId ${JSON.stringify(instanceId)} is not 1–64 characters of letters, digits and . _ : -`,
    );
  }
  return instanceId;
}

// Lone surrogates would not survive the UTF-8 round trip a Redis channel name takes.
const loneSurrogate = /\p{Cs}/u;

/** Throws ERR_INVALID_OPTION unless `topic` is a non-empty, well-formed string. */
export function checkTopic(driver: string, topic: unknown): asserts topic is string {
  if (typeof topic !== "string" || topic.length === 0 || loneSurrogate.test(topic)) {
    throw createError(
      "ERR_INVALID_OPTION",
      `${driver} bus: topic ${describe(topic)} is not a non-empty, well-formed string`,
    );
  }
}

/** Throws ERR_INVALID_OPTION unless `payload` is a Uint8Array (a Buffer is one). */
export function checkPayload(driver: string, topic: string, payload: unknown): void {
  if (!(payload instanceof Uint8Array)) {
    throw createError(
      "ERR_INVALID_OPTION",
      `${driver} bus: the payload for topic ${JSON.stringify(topic)} is ${describe(payload)}, not a Uint8Array`,
    );
  }
}

/** Throws ERR_INVALID_OPTION unless `handler` is a function. */
export function checkHandler(driver: string, topic: string, handler: unknown): void {
  if (typeof handler !== "function") {
    throw createError(
      "ERR_INVALID_OPTION",
      `${driver} bus: the handler for topic ${JSON.stringify(topic)} is not a function`,
    );
  }
}

/**
 * Wraps the driver's `onError` so that nothing it throws reaches the bus; without one, problems
 * become process warnings: visible in the log, never a crash.
 */
export function safeErrorListener(onError: BusErrorListener | undefined): BusErrorListener {
  const listener = onError ?? warn;
  return (error, context) => {
    try {
      listener(error, context);
    } catch {
      // A throwing error listener has nowhere left to report to.
    }
  };
}

function warn(error: unknown, context: BusErrorContext): void {
  const topic = context.topic === undefined ? "" : ` on topic ${JSON.stringify(context.topic)}`;
  process.emitWarning(`bus ${context.kind}${topic}: ${describeError(error)}`, "SynclineBusWarning");
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "an object";
  return typeof value;
}
