// A small typed event emitter that runs in Node and browsers alike (no node:events), where one
// throwing listener cannot stop the others or break the code that emitted.

/** Options for `TypedEmitter`. */
export interface TypedEmitterOptions<Events> {
  /**
   * Receives what a listener throws; the remaining listeners still run. Default: rethrow from a
   * microtask, so the error is reported (uncaught) without unwinding the emitter's caller.
   */
  onListenerError?: (error: unknown, event: keyof Events) => void;
}

/** One registration; `active` goes false on removal so an emit in progress skips it. */
interface Registration {
  readonly listener: (...args: never[]) => void;
  readonly once: boolean;
  active: boolean;
}

/**
 * A typed event emitter. `Events` maps event names to listener signatures, e.g.
 * `TypedEmitter<{ state: (next: State, previous: State) => void }>`. Listeners added during an
 * emit wait for the next emit; listeners removed during an emit are not called by it.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  /**
   * Registrations by event. The arrays are never changed in place: adding or removing replaces
   * the array, so an emit can walk the one it started with without copying it (emits are far
   * more frequent than changes: one per frame on a wire connection).
   */
  readonly #listeners = new Map<keyof Events, readonly Registration[]>();
  readonly #onListenerError: (error: unknown, event: keyof Events) => void;

  constructor(options: TypedEmitterOptions<Events> = {}) {
    this.#onListenerError = options.onListenerError ?? rethrowLater;
  }

  /** Adds a listener; returns a function that removes exactly this registration. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    return this.#add(event, listener, false);
  }

  /** Adds a listener that is removed before its first call; returns its remover. */
  once<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    return this.#add(event, listener, true);
  }

  /** Removes the most recently added registration of `listener` for `event`, if any. */
  off<K extends keyof Events>(event: K, listener: Events[K]): void {
    const registrations = this.#listeners.get(event);
    if (registrations === undefined) return;
    for (let i = registrations.length - 1; i >= 0; i--) {
      const registration = registrations[i] as Registration;
      if (registration.listener === listener) {
        this.#remove(event, registration);
        return;
      }
    }
  }

  /** Calls the listeners of `event` in the order added; true if there was at least one. */
  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): boolean {
    const registrations = this.#listeners.get(event);
    if (registrations === undefined) return false;
    // A listener that adds or removes one replaces the map's array, not this one.
    for (const registration of registrations) {
      if (!registration.active) continue;
      if (registration.once) this.#remove(event, registration);
      try {
        (registration.listener as (...args: Parameters<Events[K]>) => void)(...args);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
    return true;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Removes every listener of `event`, or of every event when `event` is omitted. */
  removeAllListeners(event?: keyof Events): void {
    const events = event === undefined ? [...this.#listeners.keys()] : [event];
    for (const name of events) {
      for (const registration of this.#listeners.get(name) ?? []) registration.active = false;
      this.#listeners.delete(name);
    }
  }

  #add(event: keyof Events, listener: (...args: never[]) => void, once: boolean): () => void {
    if (typeof listener !== "function") {
      throw new TypeError(`emitter: listener for "${String(event)}" is not a function`);
    }
    const registration: Registration = { listener, once, active: true };
    const registrations = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, [...registrations, registration]);
    return () => this.#remove(event, registration);
  }

  #remove(event: keyof Events, registration: Registration): void {
    if (!registration.active) return;
    registration.active = false;
    const registrations = this.#listeners.get(event);
    if (registrations === undefined) return;
    const remaining = registrations.filter((other) => other !== registration);
    if (remaining.length === 0) this.#listeners.delete(event);
    else this.#listeners.set(event, remaining);
  }
}

function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
