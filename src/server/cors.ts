// Cross-origin use of the share API, as OpenCode's share API allows it: any origin may call it
// (its data is public to whoever knows the share id, and writes carry the share's secret in the
// body, never a cookie), so `Access-Control-Allow-Origin: *` and never credentials. Only routes
// added as cross-origin get these headers; /admin, /metrics, automerge and /wire never do.

/** Headers every answer of a cross-origin route carries, errors included. */
export const crossOriginHeaders: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  // The share's seq, which data answers carry, readable by pages of other origins.
  "access-control-expose-headers": "x-share-seq",
};

/** How long a browser may reuse a preflight's answer, seconds. */
export const preflightMaxAgeSeconds = 86_400;

/** The headers a preflight (`OPTIONS`) of a cross-origin path is answered with (status 204). */
export function preflightHeaders(methods: readonly string[]): Record<string, string> {
  return {
    ...crossOriginHeaders,
    "access-control-allow-methods": [...methods, "OPTIONS"].join(", "),
    "access-control-allow-headers": "content-type, authorization",
    "access-control-max-age": String(preflightMaxAgeSeconds),
    allow: [...methods, "OPTIONS"].join(", "),
  };
}
