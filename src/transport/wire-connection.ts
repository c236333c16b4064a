// One framed wire connection over a WebSocket, for either end: decodes incoming frames into
// typed messages (a bad frame ends only this connection, with an ERROR frame and a close code),
// writes control frames ahead of bulk data, and allocates stream ids (client odd, server even).

import type { WebSocket } from "ws";
import { WireCloseCode } from "../protocol/close-codes.js";
import {
  createError,
  describeError,
  isSynclineError,
  type SynclineError,
} from "../protocol/errors.js";
import {
  decodeFrame,
  FrameFlag,
  FrameType,
  frameHeaderBytes,
  writeFrameHeader,
} from "../protocol/wire-frame.js";
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeMessage,
  type WireMessage,
} from "../protocol/wire-messages.js";
import { TypedEmitter } from "../util/typed-emitter.js";
import { type FrameSink, FrameWriter } from "./frame-writer.js";
import { rememberReceivedFrame, takeReceivedFrame } from "./received-frames.js";
import { OpenCredit } from "./stream/open-credit.js";

/**
 * Most bytes of recycled DATA frame buffers kept per connection: the 4 MiB socket buffer cap plus
 * one large frame, which is what can be in flight at once.
 */
const maxPooledBytes = 5 * 1024 * 1024;

/** Payloads of this size or more that are powers of two (the usual chunk sizes) are pooled. */
const minPooledPayload = 16 * 1024;

/** Which end of the connection this is. */
export type WireRole = "client" | "server";

/** How much `holdMessagesAfter` may queue before the connection fails. */
export interface HoldLimits {
  readonly maxMessages: number;
  /** Frame bytes, headers included. */
  readonly maxBytes: number;
}

/** Options of a WireConnection. */
export interface WireConnectionOptions {
  readonly role: WireRole;
  /** Largest frame accepted; bigger ones close with 1009. Raised after authentication. */
  readonly maxFrameBytes: number;
  /** Most bulk bytes in the socket's buffer. Default 4 MiB. */
  readonly maxBufferedBytes?: number;
  /**
   * The TCP, TLS or Unix socket under the WebSocket (the upgrade request's socket on a server,
   * the upgrade response's on a client). When given, bursts of frames are corked into one write
   * system call; without it each frame is its own write.
   */
  readonly transport?: CorkableSocket;
  /** Told of every frame's size as it is received or handed to the socket (metrics). */
  readonly traffic?: WireTraffic;
}

/** Counts a connection's bytes: whole frames, header included. */
export interface WireTraffic {
  received(bytes: number): void;
  sent(bytes: number): void;
}

/** The part of a net.Socket the writer uses to batch frames. */
export interface CorkableSocket {
  cork(): void;
  uncork(): void;
}

/** Events of a WireConnection. */
export interface WireConnectionEvents {
  /** A decoded message from the peer. */
  message: (message: WireMessage) => void;
  /** Anything arrived (a frame, a ping or a pong): the peer is alive. */
  activity: () => void;
  /** The connection ended; `error` is set when a protocol error ended it on our side. */
  close: (code: number, reason: string, error: SynclineError | undefined) => void;
}

/** A framed connection; owns its socket from construction on. */
export class WireConnection extends TypedEmitter<WireConnectionEvents> {
  readonly role: WireRole;
  /** What the peer offered for streams this end opens eagerly (set by the handshake). */
  readonly eagerSendCredit = new OpenCredit();
  /** What this end offered for the peer's eager streams (set by the handshake). */
  readonly eagerReceiveCredit = new OpenCredit();
  readonly #socket: WebSocket;
  readonly #writer: FrameWriter;
  #maxFrameBytes: number;
  #nextStreamId: number;
  /** Reusable DATA frame buffers by frame size (see `sendData`), `#pooledBytes` in all. */
  readonly #framePool = new Map<number, Buffer[]>();
  #pooledBytes = 0;
  /** Payload views handed out by `dataPayload`, with the frame buffer each one starts at. */
  readonly #framesByPayload = new WeakMap<Uint8Array, Buffer>();
  #closing = false;
  #protocolError: SynclineError | undefined;
  readonly #traffic: WireTraffic | undefined;
  /** See `holdMessagesAfter`: the type that starts holding, and how much may be held. */
  #holdAfter: { readonly type: WireMessage["type"]; readonly limits: HoldLimits } | undefined;
  /** Messages received while held, in order, and their frame bytes; undefined: not holding. */
  #held: { readonly messages: WireMessage[]; bytes: number } | undefined;

  constructor(socket: WebSocket, options: WireConnectionOptions) {
    // A listener that throws (a bug in a handler) ends this connection, never the process.
    super({ onListenerError: (error) => this.#listenerFailed(error) });
    this.role = options.role;
    this.#socket = socket;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#nextStreamId = options.role === "client" ? 1 : 2;
    this.#traffic = options.traffic;
    const writerOptions =
      options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes };
    this.#writer = new FrameWriter(sinkOf(socket, options.transport), writerOptions);
    socket.binaryType = "nodebuffer";
    socket.on("message", (data: Buffer, isBinary) => this.#receive(data, isBinary));
    socket.on("ping", () => this.emit("activity"));
    socket.on("pong", () => this.emit("activity"));
    socket.on("error", () => {}); // the close event that follows carries what we need
    socket.on("close", (code, reason) => {
      this.#writer.close(createError("ERR_CONNECTION_CLOSED", `wire: connection closed (${code})`));
      this.emit("close", code, reason.toString(), this.#protocolError);
    });
  }

  /** True while frames can still be sent. */
  get isOpen(): boolean {
    return !this.#closing && this.#socket.readyState === this.#socket.OPEN;
  }

  /** Bulk bytes handed to the socket and not yet flushed. */
  get bufferedBytes(): number {
    return this.#writer.bufferedBytes;
  }

  /** The largest frame accepted; after authentication both ends use the one WELCOME announced. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  /** Raises (or lowers) the largest accepted frame, e.g. once authenticated. */
  setMaxFrameBytes(bytes: number): void {
    this.#maxFrameBytes = bytes;
  }

  /** A fresh stream id for a stream this end opens. */
  allocateStreamId(): number {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    return id;
  }

  /** Sends a control message at once (never behind bulk data). */
  send(message: Exclude<WireMessage, { type: "data" }>): void {
    if (!this.isOpen) return;
    const frame = encodeMessage(message);
    this.#traffic?.sent(frame.byteLength);
    this.#writer.sendControl(frame);
  }

  /**
   * A buffer for the payload of a DATA frame of `length` bytes: fill it, then pass it to
   * `sendData`, which writes the frame header in front of it instead of copying the payload (one
   * copy fewer on the relay path). A buffer not sent is simply dropped.
   */
  dataPayload(length: number): Uint8Array {
    const frame = this.#takeFrame(frameHeaderBytes + length);
    const payload = frame.subarray(frameHeaderBytes);
    this.#framesByPayload.set(payload, frame);
    return payload;
  }

  /**
   * Sends a DATA frame once there is room under the buffer cap. A payload from `dataPayload` goes
   * out in the frame it was written into; the payload of a received DATA frame that no other
   * sender took yet (see received-frames.ts) goes out in that frame, its header rewritten; any
   * other is copied into a new frame.
   */
  async sendData(streamId: number, bytes: Uint8Array, fin: boolean): Promise<void> {
    const header = { type: FrameType.data, flags: fin ? FrameFlag.fin : 0, streamId };
    const received = takeReceivedFrame(bytes);
    if (received !== undefined) {
      writeFrameHeader(received, header, bytes.byteLength);
      // Not recycled: whoever handed us the payload (a retained channel payload) may keep it.
      await this.#writer.sendBulk(received);
      this.#traffic?.sent(received.byteLength);
      return;
    }
    let frame = this.#framesByPayload.get(bytes);
    if (frame === undefined) {
      frame = this.#takeFrame(frameHeaderBytes + bytes.byteLength);
      frame.set(bytes, frameHeaderBytes);
    } else {
      this.#framesByPayload.delete(bytes);
    }
    writeFrameHeader(frame, header, bytes.byteLength);
    const sent = frame;
    await this.#writer.sendBulk(sent, () => this.#recycle(sent));
    this.#traffic?.sent(sent.byteLength);
  }

  /**
   * A frame buffer of `size` bytes, recycled when one is free. Frame buffers of the usual sizes
   * are reused once the socket has flushed them: one allocation per chunk otherwise costs the
   * server a fifth of its time in GC.
   */
  #takeFrame(size: number): Buffer {
    const frame = this.#framePool.get(size)?.pop();
    if (frame === undefined) return Buffer.allocUnsafe(size);
    this.#pooledBytes -= size;
    return frame;
  }

  #recycle(frame: Buffer): void {
    const payload = frame.byteLength - frameHeaderBytes;
    const usual = payload >= minPooledPayload && (payload & (payload - 1)) === 0;
    if (!usual || this.#pooledBytes + frame.byteLength > maxPooledBytes) return;
    let free = this.#framePool.get(frame.byteLength);
    if (free === undefined) {
      free = [];
      this.#framePool.set(frame.byteLength, free);
    }
    free.push(frame);
    this.#pooledBytes += frame.byteLength;
  }

  /**
   * Holds back every message that arrives after the next one of `type` (which is delivered as
   * usual) until `releaseHeld`: a peer may pipeline frames behind its AUTH, and they must wait
   * until whoever serves the authenticated connection listens. Past `limits` the connection fails
   * with ERR_WIRE_MESSAGE (4400); if it closes first, the held messages are dropped unheard.
   */
  holdMessagesAfter(type: WireMessage["type"], limits: HoldLimits): void {
    this.#holdAfter = { type, limits };
  }

  /** Delivers the held messages in order, then delivers again as they arrive. */
  releaseHeld(): void {
    const held = this.#held;
    this.#held = undefined;
    this.#holdAfter = undefined;
    for (const message of held?.messages ?? []) {
      if (this.#closing) return;
      this.emit("message", message);
    }
  }

  /** Queues `message` while holding; false when not holding (deliver it). */
  #hold(message: WireMessage, frameBytes: number): boolean {
    const held = this.#held;
    if (held === undefined) return false;
    const limits = this.#holdAfter?.limits ?? { maxMessages: 0, maxBytes: 0 };
    held.bytes += frameBytes;
    if (held.messages.length >= limits.maxMessages || held.bytes > limits.maxBytes) {
      throw createError(
        "ERR_WIRE_MESSAGE",
        `wire: more than ${limits.maxMessages} frames or ${limits.maxBytes} bytes sent before WELCOME`,
      );
    }
    held.messages.push(message);
    return true;
  }

  /** Sends a ping (heartbeat); the peer's pong shows up as `activity`. */
  ping(): void {
    if (this.isOpen) this.#socket.ping();
  }

  /** Closes with a close code; frames still queued are flushed first by the socket. */
  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.close(code, truncateReason(reason));
  }

  /** Cuts the connection at once (a dead peer). */
  terminate(): void {
    this.#closing = true;
    this.#socket.terminate();
  }

  /** Ends the connection for a protocol error: an ERROR frame, then its close code. */
  fail(error: SynclineError, fallbackCloseCode: number = WireCloseCode.malformed): void {
    if (this.#closing) return;
    this.#protocolError = error;
    const message =
      error.message.length > 1000 ? `${error.message.slice(0, 997)}...` : error.message;
    this.send({ type: "error", streamId: 0, code: error.code, message });
    this.close(error.closeCode ?? fallbackCloseCode, error.message);
  }

  #listenerFailed(error: unknown): void {
    const message = `wire: handling a message failed: ${describeError(error)}`;
    this.fail(createError("ERR_UNEXPECTED", message, { cause: error }));
  }

  #receive(data: Buffer, isBinary: boolean): void {
    this.emit("activity");
    this.#traffic?.received(data.byteLength);
    if (this.#closing) return;
    try {
      if (!isBinary) {
        throw createError("ERR_WIRE_FRAME", "wire: text messages are not part of the protocol");
      }
      if (data.byteLength > this.#maxFrameBytes) {
        throw createError(
          "ERR_WIRE_FRAME",
          `wire: frame of ${data.byteLength} bytes exceeds the limit of ${this.#maxFrameBytes}`,
          { closeCode: WireCloseCode.tooBig },
        );
      }
      const frame = decodeFrame(data);
      const message =
        this.role === "server" ? decodeClientMessage(frame) : decodeServerMessage(frame);
      // The server relays what clients publish: their DATA frames may go on as they are.
      if (this.role === "server" && message.type === "data") {
        rememberReceivedFrame(message.bytes, data);
      }
      if (this.#hold(message, data.byteLength)) return;
      this.emit("message", message);
      if (this.#holdAfter?.type === message.type && this.#held === undefined) {
        this.#held = { messages: [], bytes: 0 };
      }
    } catch (error) {
      this.fail(
        isSynclineError(error)
          ? error
          : createError("ERR_WIRE_MESSAGE", `wire: cannot handle frame: ${describeError(error)}`, {
              cause: error,
            }),
      );
    }
  }
}

/** The writer's view of the socket: ws's `send`, plus cork/uncork of the socket underneath. */
function sinkOf(socket: WebSocket, transport: CorkableSocket | undefined): FrameSink {
  return {
    send: (data, callback) => socket.send(data, callback),
    cork: () => transport?.cork(),
    uncork: () => transport?.uncork(),
  };
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function truncateReason(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.byteLength <= 123 ? reason : `${bytes.subarray(0, 120).toString()}...`;
}
