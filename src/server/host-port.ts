// `HOST:PORT` as settings give a listening address (`127.0.0.1:9464`, `[::1]:9464`).

/** A host and a port to listen on. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses `host:port` (an IPv6 host in brackets); undefined when it is not one. */
export function parseHostPort(text: string): HostPort | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}
