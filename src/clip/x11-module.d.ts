// The part of the `x11` package (a pure JavaScript X11 protocol client, shipped without types)
// that x11-watch.ts uses: a connection, atoms, and the XFIXES extension's selection events.

declare module "x11" {
  import type { EventEmitter } from "node:events";

  export type Callback<T> = (error: Error | null | undefined, value: T) => void;

  /** The XFIXES extension, once required. */
  export interface XFixes {
    readonly major: number;
    readonly minor: number;
    SelectSelectionInput(window: number, selection: number, eventMask: number): void;
  }

  /** A selection event of XFIXES ("SelectionNotify"). */
  export interface XEvent {
    readonly name?: string;
    /** 0: a new owner; 1: the owner's window was destroyed; 2: the owner's client closed. */
    readonly subtype?: number;
    readonly selection?: number;
  }

  export interface XClient extends EventEmitter {
    InternAtom(onlyIfExists: boolean, name: string, callback: Callback<number>): void;
    require(extension: "fixes", callback: Callback<XFixes>): void;
    terminate(): void;
  }

  export interface XDisplay {
    readonly client: XClient;
    readonly screen: readonly { readonly root: number }[];
  }

  const x11: {
    createClient(
      options: { display?: string },
      onConnect: (error: Error | null | undefined, display: XDisplay) => void,
    ): XClient;
  };
  export default x11;
}
