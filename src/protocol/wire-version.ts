// Wire protocol version negotiation: the client offers a range in HELLO, the server answers the
// highest version both speak in CHALLENGE, or ERR_WIRE_VERSION and close code 4406.

import { createError, type SynclineError } from "./errors.js";

/** An inclusive range of wire protocol versions. */
export interface WireVersionRange {
  /** The oldest version, a positive integer. */
  readonly min: number;
  /** The newest version, an integer >= `min`. */
  readonly max: number;
}

/** The wire versions this build speaks. */
export const supportedWireVersions: WireVersionRange = Object.freeze({ min: 1, max: 1 });

/**
 * The highest version in both ranges (the server's choice). Throws ERR_WIRE_VERSION (close code
 * 4406) when the offered range is not a range of positive integers or the two do not overlap.
 */
export function negotiateWireVersion(
  offered: WireVersionRange,
  supported: WireVersionRange = supportedWireVersions,
): number {
  checkRange("offered", offered);
  checkRange("supported", supported);
  const version = Math.min(offered.max, supported.max);
  if (version < Math.max(offered.min, supported.min)) {
    throw versionError(
      `wire version: offered ${describeRange(offered)} and supported ` +
        `${describeRange(supported)} have no version in common`,
    );
  }
  return version;
}

/**
 * Returns `version` (the server's choice) if it lies in the range the client `offered`, else
 * throws ERR_WIRE_VERSION (close code 4406): a server must not pick a version nobody offered.
 */
export function checkChosenWireVersion(version: number, offered: WireVersionRange): number {
  checkRange("offered", offered);
  if (!Number.isSafeInteger(version) || version < offered.min || version > offered.max) {
    throw versionError(
      `wire version: the server chose version ${String(version)}, outside the offered ` +
        describeRange(offered),
    );
  }
  return version;
}

function checkRange(which: string, range: WireVersionRange): void {
  const { min, max } = range;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 1 || min > max) {
    throw versionError(
      `wire version: ${which} range ${describeRange(range)} is not a range of positive integers`,
    );
  }
}

function describeRange({ min, max }: WireVersionRange): string {
  return `${String(min)}..${String(max)}`;
}

function versionError(message: string): SynclineError {
  return createError("ERR_WIRE_VERSION", message);
}
