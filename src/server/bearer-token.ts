// `Authorization: Bearer <token>` checks for the server's own tokens (share creation, admin API,
// metrics), compared in constant time.

import { timingSafeEqualStrings } from "../util/timing-safe.js";

/** True when `header` is `Bearer <token>` with exactly `token`. */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "")?.[1];
  return given !== undefined && timingSafeEqualStrings(given, token);
}
