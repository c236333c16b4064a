// A free TCP port on loopback, for the services a benchmark starts that cannot listen on port 0
// and tell us which port they got (postgres, redis-server).

import { createServer } from "node:net";

/** A port nothing listens on right now (another process may take it before the caller does). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
