// What the routes and endpoints check every client against: who it is (behind trusted
// proxies), its rate limits, and the cap on its WebSockets without a credential.

import type { RateLimits } from "./rate-limits.js";
import type { ClientAddresses } from "./trusted-proxies.js";
import type { UnauthenticatedSockets } from "./unauthenticated-sockets.js";

/** The guards one server shares between its routes and endpoints. */
export interface RequestGuards {
  readonly addresses: ClientAddresses;
  readonly rateLimits: RateLimits;
  readonly unauthenticated: UnauthenticatedSockets;
}
