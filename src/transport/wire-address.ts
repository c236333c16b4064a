// Server addresses the transport accepts — ws://, wss://, unix:/path.sock — turned into the URL
// `ws` dials (a Unix socket becomes `ws+unix:/path.sock:/wire`).

import { createError } from "../protocol/errors.js";

/** The path of the transport endpoint on every syncline server. */
export const wirePath = "/wire";

/** Parses a server address and returns the WebSocket URL of its `/wire` endpoint. */
export function wireUrlOf(address: string): string {
  if (address.startsWith("unix:")) {
    const path = address.slice("unix:".length);
    if (!path.startsWith("/") || path.includes(":")) {
      throw createError(
        "ERR_INVALID_SERVER_URL",
        `server address ${JSON.stringify(address)}: expected unix:/absolute/path.sock (no ":" in the path)`,
      );
    }
    return `ws+unix:${path}:${wirePath}`;
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw createError(
      "ERR_INVALID_SERVER_URL",
      `server address ${JSON.stringify(address)} is not a URL; expected ws://host:port, wss://host:port or unix:/path.sock`,
    );
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    throw createError(
      "ERR_INVALID_SERVER_URL",
      `server address ${JSON.stringify(address)} has scheme ${url.protocol}; expected ws:, wss: or unix:`,
    );
  }
  url.pathname = `${url.pathname.replace(/\/+$/, "")}${wirePath}`;
  return url.toString();
}
