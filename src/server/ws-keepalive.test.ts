import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WebSocket } from "ws";
import { createWsKeepalive } from "./ws-keepalive.js";

/** A socket that counts pings and terminations; `pong()` answers like a live peer. */
function fakeSocket() {
  const emitter = new EventEmitter();
  const socket = Object.assign(emitter, {
    pings: 0,
    terminated: false,
    ping() {
      socket.pings += 1;
    },
    terminate() {
      socket.terminated = true;
    },
    pong() {
      emitter.emit("pong");
    },
  });
  return socket;
}
const asWs = (socket: ReturnType<typeof fakeSocket>) => socket as unknown as WebSocket;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("createWsKeepalive", () => {
  it("pings every interval; a socket that answers is kept", () => {
    const keepalive = createWsKeepalive(1000);
    const socket = fakeSocket();
    keepalive.add(asWs(socket));
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(1000);
      socket.pong();
    }
    expect(socket.pings).toBe(3);
    expect(socket.terminated).toBe(false);
    keepalive.stop();
  });

  it("a socket silent for two whole periods is terminated at the next interval", () => {
    const keepalive = createWsKeepalive(1000);
    const socket = fakeSocket();
    keepalive.add(asWs(socket));
    vi.advanceTimersByTime(2000);
    expect(socket.terminated).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(socket.terminated).toBe(true);
    expect(socket.pings).toBe(2);
    keepalive.stop();
  });

  it("one late pong is forgiven: a busy peer that answers within two periods is kept", () => {
    const keepalive = createWsKeepalive(1000);
    const socket = fakeSocket();
    keepalive.add(asWs(socket));
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(2000); // two pings go unanswered...
      socket.pong(); // ...then the peer catches up
    }
    expect(socket.terminated).toBe(false);
    keepalive.stop();
  });

  it("a message counts as a sign of life, like a pong", () => {
    const keepalive = createWsKeepalive(1000);
    const socket = fakeSocket();
    keepalive.add(asWs(socket));
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(1000);
      socket.emit("message", Buffer.from("x"));
    }
    expect(socket.terminated).toBe(false);
    keepalive.stop();
  });

  it("a deleted socket is no longer pinged, even if a late pong arrives", () => {
    const keepalive = createWsKeepalive(1000);
    const socket = fakeSocket();
    keepalive.add(asWs(socket));
    keepalive.delete(asWs(socket));
    socket.pong();
    vi.advanceTimersByTime(3000);
    expect(socket.pings).toBe(0);
    expect(socket.terminated).toBe(false);
    keepalive.stop();
  });

  it("stop() ends the pings", () => {
    const keepalive = createWsKeepalive(1000);
    const socket = fakeSocket();
    keepalive.add(asWs(socket));
    keepalive.stop();
    vi.advanceTimersByTime(5000);
    expect(socket.pings).toBe(0);
  });
});
