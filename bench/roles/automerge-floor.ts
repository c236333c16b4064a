// The in-process floor of automerge-sync: Automerge's own work for the server's share of the
// workload, single-threaded in one process, no network or storage. Push: the server receives
// each document's sync messages from its client and saves it (receive + save; the replies it
// generates are timed apart). Find: the server loads each saved document, then generates and
// receives sync messages with a fresh, empty client (load + generate + receive).

import {
  change,
  type Doc,
  from,
  generateSyncMessage,
  init,
  initSyncState,
  load,
  receiveSyncMessage,
  type SyncState,
  save,
} from "@automerge/automerge";
import { roleChannel } from "../lib/child.js";

type Items = { items: number[] };

const n = Number(process.argv[2]);
const changes = Number(process.argv[3] ?? 10);
const parent = roleChannel();

/** A clock that sums the time spent in the calls it wraps. */
function clock() {
  let total = 0;
  return {
    time<T>(fn: () => T): T {
      const start = performance.now();
      const result = fn();
      total += performance.now() - start;
      return result;
    },
    get seconds() {
      return total / 1000;
    },
  };
}

const receive = clock();
const saving = clock();
const replies = clock();
const loading = clock();
const generate = clock();
const findReceive = clock();
const saved: Uint8Array[] = [];

for (let i = 0; i < n; i++) {
  let client: Doc<Items> = from<Items>({ items: [] });
  for (let c = 0; c < changes; c++) client = change(client, (d) => void d.items.push(c));
  let server: Doc<Items> = init();
  let clientState: SyncState = initSyncState();
  let serverState: SyncState = initSyncState();
  for (;;) {
    const [cs, toServer] = generateSyncMessage(client, clientState);
    clientState = cs;
    if (toServer) {
      [server, serverState] = receive.time(() => receiveSyncMessage(server, serverState, toServer));
    }
    const [ss, toClient] = replies.time(() => generateSyncMessage(server, serverState));
    serverState = ss;
    if (toClient) [client, clientState] = receiveSyncMessage(client, clientState, toClient);
    if (!toServer && !toClient) break;
  }
  saved.push(saving.time(() => save(server)));
}

for (const bytes of saved) {
  let server: Doc<Items> = loading.time(() => load<Items>(bytes));
  let client: Doc<Items> = init();
  let clientState: SyncState = initSyncState();
  let serverState: SyncState = initSyncState();
  for (;;) {
    const [cs, toServer] = generateSyncMessage(client, clientState);
    clientState = cs;
    if (toServer) {
      [server, serverState] = findReceive.time(() =>
        receiveSyncMessage(server, serverState, toServer),
      );
    }
    const [ss, toClient] = generate.time(() => generateSyncMessage(server, serverState));
    serverState = ss;
    if (toClient) [client, clientState] = receiveSyncMessage(client, clientState, toClient);
    if (!toServer && !toClient) break;
  }
  if (client.items.length !== changes) throw new Error("floor: the fresh client missed changes");
}

parent.send({
  type: "floor",
  push: receive.seconds + saving.seconds,
  pushReplies: replies.seconds,
  find: loading.seconds + generate.seconds + findReceive.seconds,
  detail: {
    receive: receive.seconds,
    save: saving.seconds,
    load: loading.seconds,
    generate: generate.seconds,
    findReceive: findReceive.seconds,
  },
});
