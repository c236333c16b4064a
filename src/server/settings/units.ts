// Units and checks shared by the server's settings tables.

import { parseHostPort } from "../host-port.js";
import { integer, nonEmptyText } from "../setting-table.js";
import { checkTrustedProxies } from "../trusted-proxies.js";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
/** A byte count within [min, max]. */
export const bytes = (min: number, max: number) => integer(min, max);
/** A duration in milliseconds within [min, max]. */
export const milliseconds = (min: number, max: number) => integer(min, max);
export const optionalPath = nonEmptyText.optional();
export const hostAndPort = nonEmptyText.refine(
  (text) => parseHostPort(text) !== undefined,
  "must be HOST:PORT (an IPv6 host in brackets: [::1]:9464)",
);
export const trustedProxyList = nonEmptyText.superRefine((text, context) => {
  const problem = checkTrustedProxies(text);
  if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
});
