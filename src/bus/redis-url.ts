// The Redis URL of the bus: checked before any connection, and shown only without its password
// (errors, status and logs may reach people who must not learn it).

import { createError } from "../protocol/errors.js";

/**
 * Throws ERR_INVALID_CONFIG unless `url` is a `redis://` or `rediss://` (TLS) URL with a host;
 * the message shows the URL redacted.
 */
export function checkRedisUrl(url: unknown): asserts url is string {
  const parsed = typeof url === "string" ? parse(url) : undefined;
  if (parsed === undefined || !/^rediss?:$/.test(parsed.protocol) || parsed.hostname === "") {
    const shown = typeof url === "string" ? redactRedisUrl(url) : typeof url;
    throw createError(
      "ERR_INVALID_CONFIG",
      `redis bus: url ${shown} is not a redis://host:port or rediss://host:port URL`,
    );
  }
}

/**
 * `url` with its password masked and its query dropped (ioredis reads options there, a
 * `?password=` included): `redis://user:***@host:6379/0`. Never throws.
 */
export function redactRedisUrl(url: string): string {
  const parsed = parse(url);
  if (parsed === undefined) return "(a URL that cannot be parsed)";
  const credentials =
    parsed.username === "" && parsed.password === ""
      ? ""
      : `${parsed.username}${parsed.password === "" ? "" : ":***"}@`;
  const path = parsed.pathname === "/" ? "" : parsed.pathname;
  return `${parsed.protocol}//${credentials}${parsed.host}${path}`;
}

/** The password in `url`, decoded, or undefined; to scrub it from messages that quote it. */
export function redisUrlPassword(url: string): string | undefined {
  const parsed = parse(url);
  const password = parsed?.password || parsed?.searchParams.get("password") || "";
  if (password === "") return undefined;
  try {
    return decodeURIComponent(password);
  } catch {
    return password;
  }
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
