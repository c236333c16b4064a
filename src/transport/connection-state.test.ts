import { describe, expect, it } from "vitest";
import { ConnectionStateMachine, type StateChange } from "./connection-state.js";

describe("ConnectionStateMachine", () => {
  it("starts connecting and emits each change once, with its reason", () => {
    const machine = new ConnectionStateMachine();
    const changes: StateChange[] = [];
    machine.on("change", (change) => changes.push(change));
    expect(machine.state).toBe("connecting");
    machine.set("open", "authenticated");
    expect(machine.set("open", "again")).toBe(false);
    machine.set("reconnecting", "socket closed 1006");
    machine.set("connecting", "backoff elapsed");
    machine.set("closed", "user closed");
    expect(changes.map((c) => `${c.from}>${c.to}:${c.reason}`)).toEqual([
      "connecting>open:authenticated",
      "open>reconnecting:socket closed 1006",
      "reconnecting>connecting:backoff elapsed",
      "connecting>closed:user closed",
    ]);
    expect(machine.reason).toBe("user closed");
  });

  it("refuses illegal moves", () => {
    const machine = new ConnectionStateMachine();
    machine.set("open", "ok");
    expect(() => machine.set("connecting", "x")).toThrow(/open to connecting/);
    expect(() => machine.set("connecting", "x")).toThrow(
      expect.objectContaining({ code: "ERR_UNEXPECTED" }),
    );
    machine.set("closed", "done");
    expect(() => machine.set("reconnecting", "x")).toThrow(/closed/);
  });
});
