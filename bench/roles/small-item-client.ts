// The small-item client (the clipboard case): two connections in one process, a sender and a
// receiver, so one clock times each item from the moment the sender starts it until the
// receiver holds all of it. `syncline <url> <key>`: a channel of our server (ChannelClient on two
// WireClients); `raw <url>`: the raw `ws` relay (roles/raw-relay-server.ts), one message per item.
// For each "go" {count, bytes} it sends `count` items one after another and reports every
// latency in ms.

import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { ChannelClient } from "../../src/channels/channel-client.js";
import { loadPrivateKey } from "../../src/transport/auth/private-key-file.js";
import { maskOptionsFor } from "../../src/transport/frame-masking.js";
import { parseServerAddress } from "../../src/transport/server-address.js";
import { WireClient } from "../../src/transport/wire-client.js";
import { roleChannel } from "../lib/child.js";

const [mode, url, keyPath] = process.argv.slice(2);
const parent = roleChannel();

/**
 * Sends one item; `arrived` resolves when the receiver holds all of it (what is timed), the
 * returned promise once the sender is done with it too (the next item waits for that).
 */
type SendOne = (item: Uint8Array, arrived: () => void) => Promise<void>;

const sendOne: SendOne = mode === "raw" ? await rawPair() : await synclinePair();
parent.send({ type: "ready" });
parent.on("go", async (message) => {
  const latencies: number[] = [];
  for (let i = 0; i < Number(message.count); i++) {
    const item = new Uint8Array(Number(message.bytes)).fill(i & 0xff);
    const started = performance.now();
    await sendOne(item, () => latencies.push(performance.now() - started));
  }
  parent.send({ type: "done", latencies });
});

async function synclinePair(): Promise<SendOne> {
  const signer = await loadPrivateKey(keyPath as string);
  const address = parseServerAddress(url as string);
  const sending = new WireClient({ address, signer });
  const receiving = new WireClient({ address, signer });
  await Promise.all([sending.whenOpen(), receiving.whenOpen()]);
  const sender = new ChannelClient(sending, { origin: "small-sender" });
  const receiver = new ChannelClient(receiving, { origin: "small-receiver" });
  let arrived: (() => void) | undefined;
  void receiver.receive("small", {
    latest: false,
    accept: () => ({ async writeChunk() {} }),
    until: () => {
      arrived?.();
      return false;
    },
  });
  // The subscription must reach the server before the first item.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return async (item, onArrived) => {
    const received = new Promise<void>((resolve) => {
      arrived = () => {
        onArrived();
        resolve();
      };
    });
    const source = { size: item.length, read: async () => item };
    await Promise.all([sender.send("small", source), received]);
  };
}

async function rawPair(): Promise<SendOne> {
  const open = (path: string, options: object = {}) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(`${url}${path}`, { perMessageDeflate: false, ...options });
      socket.once("open", () => resolve(socket));
      socket.once("error", reject);
    });
  const receiving = await open("/recv");
  const sending = await open("/send", maskOptionsFor(parseServerAddress(url as string)));
  let arrived: (() => void) | undefined;
  receiving.on("message", () => arrived?.());
  return (item, onArrived) =>
    new Promise<void>((resolve) => {
      arrived = () => {
        onArrived();
        resolve();
      };
      sending.send(item);
    });
}
