// The transport's public API: connect to a server's `/wire` with an SSH identity, in the spirit
// of `connect(peer, auth)`; the server side (`listen`) is `startServer` with `authorizedKeys`.

import { type ResolveIdentityOptions, resolveIdentities } from "./auth/identity.js";
import type { Signer } from "./auth/signer.js";
import { parseServerAddress } from "./server-address.js";
import { WireClient, type WireClientOptions } from "./wire-client.js";

/**
 * How `connect` authenticates: a ready signer (or several, offered in turn), or how to find the
 * user's SSH keys (`--identity`, else every ssh-agent key, else ~/.ssh/id_*).
 */
export type ConnectAuth = { readonly signer: Signer | readonly Signer[] } | ResolveIdentityOptions;

/**
 * Connects to `server` (`ws://…`, `wss://…` or `unix:/path.sock`) and keeps the connection
 * (reconnecting with backoff) until `close()`; await `whenOpen()` for the authenticated link.
 */
export async function connect(
  server: string,
  auth: ConnectAuth = {},
  options: Partial<Omit<WireClientOptions, "address" | "signer">> = {},
): Promise<WireClient> {
  const signer = "signer" in auth ? auth.signer : await resolveIdentities(auth);
  return new WireClient({ ...options, address: parseServerAddress(server), signer });
}

export type { ResolveIdentityOptions } from "./auth/identity.js";
export { loadPrivateKey } from "./auth/private-key-file.js";
export type { Signer } from "./auth/signer.js";
export type { ConnectionState, StateChange } from "./connection-state.js";
export { parseServerAddress, type ServerAddress } from "./server-address.js";
export { wireUrlOf } from "./wire-address.js";
export { WireClient, type WireClientEvents, type WireClientOptions } from "./wire-client.js";
export type { DialedConnection, ServerHostKey } from "./wire-dial.js";
