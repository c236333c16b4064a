import { afterEach, describe, expect, expectTypeOf, it, vi } from "vitest";
import { TypedEmitter } from "./typed-emitter.js";

interface Events {
  message: (text: string, seq: number) => void;
  close: () => void;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("TypedEmitter", () => {
  it("calls listeners in order with the emitted arguments", () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    emitter.on("message", (text, seq) => calls.push(`a:${text}:${seq}`));
    emitter.on("message", (text, seq) => calls.push(`b:${text}:${seq}`));
    expect(emitter.emit("message", "hi", 1)).toBe(true);
    expect(calls).toEqual(["a:hi:1", "b:hi:1"]);
  });

  it("returns false from emit when nobody listens", () => {
    const emitter = new TypedEmitter<Events>();
    expect(emitter.emit("close")).toBe(false);
    const off = emitter.on("close", () => {});
    expect(emitter.emit("close")).toBe(true);
    off();
    expect(emitter.emit("close")).toBe(false);
  });

  it("types event names and arguments", () => {
    const emitter = new TypedEmitter<Events>();
    expectTypeOf(emitter.emit<"message">).parameters.toEqualTypeOf<["message", string, number]>();
    // @ts-expect-error: unknown event
    emitter.on("nope", () => {});
    // @ts-expect-error: wrong argument type
    emitter.emit("message", 1, 2);
    // @ts-expect-error: missing argument
    emitter.emit("message", "x");
  });

  it("on returns an unsubscribe that removes only that registration, once", () => {
    const emitter = new TypedEmitter<Events>();
    const listener = vi.fn();
    const first = emitter.on("close", listener);
    emitter.on("close", listener);
    expect(emitter.listenerCount("close")).toBe(2);
    first();
    first();
    expect(emitter.listenerCount("close")).toBe(1);
    emitter.emit("close");
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("off removes one registration of the listener", () => {
    const emitter = new TypedEmitter<Events>();
    const listener = vi.fn();
    const other = vi.fn();
    emitter.on("close", listener);
    emitter.on("close", other);
    emitter.on("close", listener);
    emitter.off("close", listener);
    emitter.emit("close");
    expect(listener).toHaveBeenCalledTimes(1);
    expect(other).toHaveBeenCalledTimes(1);
    emitter.off("close", listener);
    emitter.off("close", listener);
    emitter.emit("close");
    expect(listener).toHaveBeenCalledTimes(1);
    expect(emitter.listenerCount("close")).toBe(1);
  });

  it("once calls a listener a single time, even if it emits again from inside", () => {
    const emitter = new TypedEmitter<Events>();
    let calls = 0;
    emitter.once("close", () => {
      calls += 1;
      emitter.emit("close");
    });
    emitter.emit("close");
    emitter.emit("close");
    expect(calls).toBe(1);
    expect(emitter.listenerCount("close")).toBe(0);
  });

  it("once listeners can be removed before firing, by remover or by off", () => {
    const emitter = new TypedEmitter<Events>();
    const a = vi.fn();
    const b = vi.fn();
    const removeA = emitter.once("close", a);
    emitter.once("close", b);
    removeA();
    emitter.off("close", b);
    emitter.emit("close");
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
  });

  it("does not skip the next listener when one removes itself during emit", () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    const offA = emitter.on("close", () => {
      calls.push("a");
      offA();
    });
    emitter.on("close", () => calls.push("b"));
    emitter.on("close", () => calls.push("c"));
    emitter.emit("close");
    emitter.emit("close");
    expect(calls).toEqual(["a", "b", "c", "b", "c"]);
  });

  it("does not call a listener removed by an earlier one in the same emit", () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    let offB = () => {};
    emitter.on("close", () => {
      calls.push("a");
      offB();
    });
    offB = emitter.on("close", () => calls.push("b"));
    emitter.on("close", () => calls.push("c"));
    emitter.emit("close");
    expect(calls).toEqual(["a", "c"]);
  });

  it("calls listeners added during emit from the next emit on", () => {
    const emitter = new TypedEmitter<Events>();
    const calls: string[] = [];
    emitter.once("close", () => {
      calls.push("a");
      emitter.on("close", () => calls.push("late"));
    });
    emitter.emit("close");
    expect(calls).toEqual(["a"]);
    emitter.emit("close");
    expect(calls).toEqual(["a", "late"]);
  });

  it("keeps running listeners after one throws and reports the error with the event", () => {
    const errors: Array<[unknown, unknown]> = [];
    const emitter = new TypedEmitter<Events>({
      onListenerError: (error, event) => errors.push([error, event]),
    });
    const boom = new Error("boom");
    const after = vi.fn();
    emitter.on("message", () => {
      throw boom;
    });
    emitter.on("message", after);
    expect(emitter.emit("message", "x", 1)).toBe(true);
    expect(after).toHaveBeenCalledWith("x", 1);
    expect(errors).toEqual([[boom, "message"]]);
  });

  it("by default rethrows listener errors from a microtask, not from emit", () => {
    const scheduled: Array<() => void> = [];
    vi.stubGlobal("queueMicrotask", (task: () => void) => scheduled.push(task));
    const emitter = new TypedEmitter<Events>();
    const after = vi.fn();
    emitter.on("close", () => {
      throw new Error("listener failed");
    });
    emitter.on("close", after);
    expect(() => emitter.emit("close")).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(scheduled).toHaveLength(1);
    expect(() => scheduled[0]?.()).toThrow("listener failed");
  });

  it("removeAllListeners clears one event or all, and stops an emit in progress", () => {
    const emitter = new TypedEmitter<Events>();
    const message = vi.fn();
    emitter.on("message", message);
    emitter.on("close", () => emitter.removeAllListeners());
    const later = vi.fn();
    emitter.on("close", later);
    emitter.emit("close");
    expect(later).not.toHaveBeenCalled();
    expect(emitter.listenerCount("message")).toBe(0);
    expect(emitter.listenerCount("close")).toBe(0);

    emitter.on("message", message);
    emitter.on("close", later);
    emitter.removeAllListeners("message");
    expect(emitter.listenerCount("message")).toBe(0);
    expect(emitter.listenerCount("close")).toBe(1);
  });

  it("rejects a listener that is not a function", () => {
    const emitter = new TypedEmitter<Events>();
    expect(() => emitter.on("close", undefined as unknown as () => void)).toThrow(
      'emitter: listener for "close" is not a function',
    );
  });

  it("works as a base class", () => {
    class Connection extends TypedEmitter<{ state: (next: "open" | "closed") => void }> {
      close() {
        this.emit("state", "closed");
      }
    }
    const connection = new Connection();
    const states: string[] = [];
    connection.on("state", (next) => states.push(next));
    connection.close();
    expect(states).toEqual(["closed"]);
  });
});
