// The conformance suite every Bus driver passes: a driver's test file calls `runBusTests` with
// a setup that returns a way to connect nodes to one fresh network (or Redis key prefix).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Bus, BusDriverOptions, BusErrorContext, BusHandler } from "../bus.js";

/** What a driver's setup returns for each test. */
export interface BusTestContext {
  /** A new open bus, a node, on the same network as the others of this test. */
  readonly connect: (options?: BusDriverOptions) => Promise<Bus>;
  /** Removes what the setup made; runs after the suite has closed every bus. */
  readonly teardown?: () => Promise<void>;
}

/** A message as a test handler saw it. */
interface Received {
  readonly bytes: Uint8Array;
  readonly text: string;
  readonly from: string;
}

/** A handler that records what it receives, and a way to wait for it. */
interface Inbox {
  readonly handler: BusHandler;
  readonly messages: Received[];
  /** Resolves with the messages once there are at least `count`; fails after 5 s. */
  waitFor(count: number): Promise<Received[]>;
}

const bytes = (text: string) => new TextEncoder().encode(text);

function createInbox(): Inbox {
  const messages: Received[] = [];
  return {
    messages,
    handler: (payload, from) => {
      messages.push({ bytes: payload, text: new TextDecoder().decode(payload), from });
    },
    async waitFor(count) {
      const deadline = Date.now() + 5000;
      while (messages.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`waited 5 s for ${count} messages, got ${messages.length}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return messages;
    },
  };
}

const texts = (messages: readonly Received[]) => messages.map((message) => message.text);

/** The `code` a promise rejects with, or undefined when it resolves. */
async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

/** Registers the conformance tests for one driver under `describe(name)`. */
export function runBusTests(name: string, setup: () => Promise<BusTestContext>): void {
  describe(`${name} bus conformance`, () => {
    let context: BusTestContext;
    let buses: Bus[];
    /** Connects a node that the suite closes after the test. */
    const connect = async (options?: BusDriverOptions) => {
      const bus = await context.connect(options);
      buses.push(bus);
      return bus;
    };
    beforeEach(async () => {
      context = await setup();
      buses = [];
    });
    afterEach(async () => {
      await Promise.all(buses.map((bus) => bus.close()));
      await context.teardown?.();
    });

    it("delivers a message to the other nodes, never back to its sender", async () => {
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const inboxes = [createInbox(), createInbox(), createInbox()];
      for (const [i, bus] of [a, b, c].entries()) {
        await bus.subscribe("room", (inboxes[i] as Inbox).handler);
      }
      const [atA, atB, atC] = inboxes as [Inbox, Inbox, Inbox];
      await a.publish("room", bytes("hello"));
      expect(await atB.waitFor(1)).toEqual([
        { bytes: bytes("hello"), text: "hello", from: a.instanceId },
      ]);
      expect(texts(await atC.waitFor(1))).toEqual(["hello"]);
      // b's message comes after a's: had a's echo reached a, it would be there first.
      await b.publish("room", bytes("from b"));
      expect(texts(await atA.waitFor(1))).toEqual(["from b"]);
      expect(atA.messages[0]?.from).toBe(b.instanceId);
      expect(texts(await atC.waitFor(2))).toEqual(["hello", "from b"]);
      expect(texts(atB.messages)).toEqual(["hello"]);
      expect(new Set([a.instanceId, b.instanceId, c.instanceId]).size).toBe(3);
    });

    it("keeps topics apart, a topic that prefixes another included", async () => {
      const [a, b] = [await connect(), await connect()];
      const [room, roomOne, other] = [createInbox(), createInbox(), createInbox()];
      await b.subscribe("room", room.handler);
      await b.subscribe("room:1", roomOne.handler);
      await b.subscribe("other", other.handler);
      await a.publish("room:1", bytes("to room:1"));
      await a.publish("nobody-listens", bytes("lost"));
      await a.publish("room", bytes("to room"));
      expect(texts(await room.waitFor(1))).toEqual(["to room"]);
      expect(texts(await roomOne.waitFor(1))).toEqual(["to room:1"]);
      await a.publish("other", bytes("to other"));
      expect(texts(await other.waitFor(1))).toEqual(["to other"]);
      expect(texts(room.messages)).toEqual(["to room"]);
    });

    it("stops delivery at unsubscribe; the topic's other subscriptions keep theirs", async () => {
      const [a, b] = [await connect(), await connect()];
      const [first, second, later] = [createInbox(), createInbox(), createInbox()];
      const unsubscribeFirst = await b.subscribe("t", first.handler);
      const unsubscribeSecond = await b.subscribe("t", second.handler);
      await unsubscribeFirst();
      await unsubscribeFirst(); // harmless twice
      await a.publish("t", bytes("one"));
      expect(texts(await second.waitFor(1))).toEqual(["one"]);
      expect(first.messages).toEqual([]);
      // The topic's last subscription leaves, and a new one joins: the transport follows.
      await unsubscribeSecond();
      await b.subscribe("t", later.handler);
      await a.publish("t", bytes("two"));
      expect(texts(await later.waitFor(1))).toEqual(["two"]);
      expect(texts(second.messages)).toEqual(["one"]);
      expect(first.messages).toEqual([]);
    });

    it("delivers binary payloads intact: empty, every byte value, 1 MiB", async () => {
      const [a, b] = [await connect(), await connect()];
      const inbox = createInbox();
      await b.subscribe("binary", inbox.handler);
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) % 251);
      const view = Buffer.from("xxsliced payloadxx").subarray(2, 16);
      for (const payload of [new Uint8Array(0), every, big, view])
        await a.publish("binary", payload);
      const received = (await inbox.waitFor(4)).map((message) => message.bytes);
      expect(received.map((payload) => payload.length)).toEqual([0, 256, big.length, 14]);
      expect(Buffer.compare(received[1] as Uint8Array, every)).toBe(0);
      expect(Buffer.compare(received[2] as Uint8Array, big)).toBe(0);
      expect(Buffer.from(received[3] as Uint8Array).toString()).toBe("sliced payload");
    });

    it("keeps each publisher's order over 500 messages, two publishers interleaved", async () => {
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const inbox = createInbox();
      await b.subscribe("ordered", inbox.handler);
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 500; i++) {
        sends.push(a.publish("ordered", bytes(`a${i}`)), c.publish("ordered", bytes(`c${i}`)));
      }
      await Promise.all(sends);
      const received = await inbox.waitFor(1000);
      for (const sender of [a, c]) {
        const sequence = received.filter((message) => message.from === sender.instanceId);
        const prefix = sender === a ? "a" : "c";
        expect(texts(sequence)).toEqual(Array.from({ length: 500 }, (_, i) => `${prefix}${i}`));
      }
    });

    it("delivers to every subscription on a node, the same handler twice included", async () => {
      const [a, b] = [await connect(), await connect()];
      const [one, two] = [createInbox(), createInbox()];
      await b.subscribe("t", one.handler);
      await b.subscribe("t", two.handler);
      await b.subscribe("t", two.handler);
      await a.publish("t", bytes("all"));
      expect(texts(await one.waitFor(1))).toEqual(["all"]);
      expect(texts(await two.waitFor(2))).toEqual(["all", "all"]);
    });

    it("reports a throwing or rejecting handler and goes on delivering", async () => {
      const reports: [unknown, BusErrorContext][] = [];
      const a = await connect();
      const b = await connect({ onError: (error, where) => reports.push([error, where]) });
      const inbox = createInbox();
      await b.subscribe("t", () => {
        throw new Error("handler failed");
      });
      const rejecting = async () => Promise.reject(new Error("async handler failed"));
      await b.subscribe("t", rejecting as unknown as BusHandler);
      await b.subscribe("t", inbox.handler);
      await a.publish("t", bytes("one"));
      await a.publish("t", bytes("two"));
      expect(texts(await inbox.waitFor(2))).toEqual(["one", "two"]);
      await waitUntil(() => reports.length === 4);
      expect(reports.map(([error]) => (error as Error).message).sort()).toEqual([
        "async handler failed",
        "async handler failed",
        "handler failed",
        "handler failed",
      ]);
      expect(reports.map(([, where]) => where)).toContainEqual({ kind: "handler", topic: "t" });
    });

    it("gives every handler its own copy; the publisher's array is not shared", async () => {
      const [a, b] = [await connect(), await connect()];
      const seen: string[] = [];
      const mutate: BusHandler = (payload) => {
        seen.push(Buffer.from(payload).toString());
        payload.fill(0x7a);
      };
      await b.subscribe("t", mutate);
      await b.subscribe("t", mutate);
      const payload = bytes("original");
      const sent = a.publish("t", payload);
      payload.fill(0x78); // before the publish even resolved
      await sent;
      await waitUntil(() => seen.length === 2);
      expect(seen).toEqual(["original", "original"]);
    });

    it("delivers asynchronously, never from within publish", async () => {
      const [a, b] = [await connect(), await connect()];
      const inbox = createInbox();
      await b.subscribe("t", inbox.handler);
      const publishing = a.publish("t", bytes("later"));
      expect(inbox.messages).toEqual([]);
      await publishing;
      expect(texts(await inbox.waitFor(1))).toEqual(["later"]);
    });

    it("shows open, then closed; after close refuses work with ERR_BUS_CLOSED", async () => {
      const [a, b] = [await connect(), await connect()];
      const inbox = createInbox();
      const unsubscribe = await b.subscribe("t", inbox.handler);
      const removeListener = b.onResume(() => {});
      expect(b.status()).toMatchObject({ state: "open" });
      expect(b.status()).not.toHaveProperty("lastError");
      await b.close();
      await b.close(); // idempotent
      expect(b.status()).toMatchObject({ state: "closed" });
      expect(b.status().driver).toBe(a.status().driver);
      expect(await codeOf(b.publish("t", bytes("x")))).toBe("ERR_BUS_CLOSED");
      expect(await codeOf(b.subscribe("t", inbox.handler))).toBe("ERR_BUS_CLOSED");
      await unsubscribe(); // still resolves
      removeListener();
      // The others go on without it, and it gets nothing more.
      await a.publish("t", bytes("after close"));
      const c = await connect();
      const atC = createInbox();
      await c.subscribe("t", atC.handler);
      await a.publish("t", bytes("to c"));
      expect(texts(await atC.waitFor(1))).toEqual(["to c"]);
      expect(inbox.messages).toEqual([]);
    });

    it("refuses a bad topic, payload, handler or listener with ERR_INVALID_OPTION", async () => {
      const a = await connect();
      const invalidTopics = ["", 7, undefined, "\ud800"] as unknown as string[];
      for (const topic of invalidTopics) {
        expect(await codeOf(a.publish(topic, bytes("x"))), String(topic)).toBe(
          "ERR_INVALID_OPTION",
        );
        expect(await codeOf(a.subscribe(topic, () => {}))).toBe("ERR_INVALID_OPTION");
      }
      const notBytes = "text" as unknown as Uint8Array;
      expect(await codeOf(a.publish("t", notBytes))).toBe("ERR_INVALID_OPTION");
      expect(await codeOf(a.subscribe("t", "no" as unknown as BusHandler))).toBe(
        "ERR_INVALID_OPTION",
      );
      expect(() => a.onResume(7 as unknown as () => void)).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_OPTION" }),
      );
      expect(await codeOf(a.publish("unicode ✓ topic", bytes("fine")))).toBeUndefined();
    });

    it("keeps a given instance id and refuses an invalid one", async () => {
      const a = await connect({ instanceId: "node-a.eu_1" });
      expect(a.instanceId).toBe("node-a.eu_1");
      const b = await connect();
      expect(b.instanceId).toMatch(/^[0-9a-f]{16}$/);
      expect(await codeOf(connect({ instanceId: "has space" }))).toBe("ERR_INVALID_OPTION");
    });
  });
}

/** Polls `condition` every 5 ms; fails after 5 s. */
async function waitUntil(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
