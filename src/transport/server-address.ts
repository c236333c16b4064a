// Server addresses every client command and the client library accept — ws://, wss://,
// http://, https:// or unix:/path.sock — parsed once, and turned into the URL each protocol dials
// (a Unix socket becomes `ws+unix:/path.sock:/wire` for ws, a socket path for HTTP).

import { resolve } from "node:path";
import { createError } from "../protocol/errors.js";

/** A parsed server address. */
export type ServerAddress =
  | {
      readonly kind: "tcp";
      /** wss:// or https://. */
      readonly secure: boolean;
      /** `host:port` as URLs write it (IPv6 in brackets). */
      readonly host: string;
      /** The path prefix the server is mounted under, without a trailing slash ("" at the root). */
      readonly base: string;
      /** The address as the user wrote it, for messages. */
      readonly text: string;
    }
  | {
      readonly kind: "unix";
      /** The absolute socket path. */
      readonly path: string;
      readonly text: string;
    };

/** Parses `text`; throws ERR_INVALID_SERVER_URL naming `source` (`--server`, a config key). */
export function parseServerAddress(text: string, source = "server address"): ServerAddress {
  if (text.startsWith("unix:")) return unixAddress(text, source);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidAddress(text, source, "is not a URL");
  }
  if (!["ws:", "wss:", "http:", "https:"].includes(url.protocol)) {
    throw invalidAddress(text, source, `has scheme ${url.protocol}`);
  }
  return {
    kind: "tcp",
    secure: url.protocol === "wss:" || url.protocol === "https:",
    host: url.host,
    base: url.pathname.replace(/\/+$/, ""),
    text,
  };
}

/** True when `text` parses as a server address. */
export function isServerAddress(text: string): boolean {
  try {
    parseServerAddress(text);
    return true;
  } catch {
    return false;
  }
}

/** The WebSocket URL `ws` dials for `path` (with its query) on `address`. */
export function webSocketUrl(address: ServerAddress, path: string): string {
  if (address.kind === "unix") return `ws+unix:${address.path}:${path}`;
  return `${address.secure ? "wss" : "ws"}://${address.host}${address.base}${path}`;
}

/**
 * The http(s):// URL of `path` on `address`. For a Unix socket the host is `localhost` and the
 * request must go to the socket (`socketPath`); the URL then only names the path.
 */
export function httpUrl(address: ServerAddress, path: string): string {
  if (address.kind === "unix") return `http://localhost${path}`;
  return `${address.secure ? "https" : "http"}://${address.host}${address.base}${path}`;
}

/** How the address reads in messages: a URL, or `unix:/path`. */
export function describeAddress(address: ServerAddress): string {
  return address.kind === "unix" ? `unix:${address.path}` : address.text;
}

function unixAddress(text: string, source: string): ServerAddress {
  const given = text.slice("unix:".length);
  if (given === "") throw invalidAddress(text, source, "names no socket path");
  // ws writes a Unix socket as `ws+unix:<socket path>:<request path>`: a ":" in the socket path
  // would be read as the separator.
  if (given.includes(":")) throw invalidAddress(text, source, 'has ":" in its socket path');
  return { kind: "unix", path: resolve(given), text };
}

function invalidAddress(text: string, source: string, problem: string) {
  return createError(
    "ERR_INVALID_SERVER_URL",
    `${source} ${JSON.stringify(text)} ${problem}; expected ws://host:port, wss://host:port, http(s)://host:port or unix:/path.sock`,
  );
}
