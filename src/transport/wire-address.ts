// The transport's endpoint on every syncline server, and the URL `ws` dials for it.

import { parseServerAddress, webSocketUrl } from "./server-address.js";

/** The path of the transport endpoint on every syncline server. */
export const wirePath = "/wire";

/** The WebSocket URL of the `/wire` endpoint of a server address (see `parseServerAddress`). */
export function wireUrlOf(address: string): string {
  return webSocketUrl(parseServerAddress(address), wirePath);
}
