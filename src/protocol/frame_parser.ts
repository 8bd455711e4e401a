// Frames in: an incremental parser for the byte stream of one connection. It first takes the
// 8-octet protocol header, then frames. A frame that lies wholly inside a pushed chunk is handed
// to the sink in place; only a frame split across chunks is assembled, in one reusable buffer.
//
// Errors follow rabbit_reader: 501 FRAME_ERROR with text "type T, all octets = <<...>>: reason"
// for a payload over frame-max, a bad frame-end octet, and a frame RabbitMQ's analyze_frame
// rejects (unknown type, heartbeat with a payload, method or header payload too short).
// After any throw - the parser's or the sink's - the parser is dead.

import { AmqpError, ReplyCode } from "./errors.ts";
import { FRAME_END, FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FrameType, PROTOCOL_HEADER } from "./constants.ts";
import { CONTENT_HEADER_FIXED_BYTES } from "./content_header.ts";

export interface FrameSink {
  /** The first 8 bytes of the stream, whatever they are; valid only during the call. */
  onProtocolHeader(header: Uint8Array): void;
  /** One frame; buf[offset, offset+length) is its payload, valid only during the call. */
  onFrame(type: number, channel: number, buf: Uint8Array, offset: number, length: number): void;
}

const State = { protocolHeader: 0, frameHeader: 1, framePayload: 2, dead: 3 } as const;
type State = (typeof State)[keyof typeof State];

const PROTOCOL_HEADER_BYTES = PROTOCOL_HEADER.length;
/** class-id + method-id. */
const METHOD_IDS_BYTES = 4;
/** RabbitMQ prints at most this many payload octets in a frame error. */
const SNIPPET_MAX_BYTES = 16;
/** First size of the assembly buffer; it grows to the largest split frame seen. */
const ASSEMBLY_INITIAL_BYTES = 4096;

export class FrameParser {
  /**
   * Largest frame accepted, header and frame-end included. As RabbitMQ does, a payload of up
   * to frameMax bytes is tolerated (clients often forget the 8 overhead bytes). Must be > 0.
   */
  frameMax: number;

  private readonly sink: FrameSink;
  private state: State = State.protocolHeader;
  private paused = false;
  /** Bytes of the current split frame (or protocol header) gathered so far. */
  private assembly = new Uint8Array(ASSEMBLY_INITIAL_BYTES);
  private assembled_bytes = 0;
  private type = 0;
  private channel = 0;
  private size_bytes = 0;

  constructor(sink: FrameSink, frameMax_bytes: number) {
    if (!Number.isInteger(frameMax_bytes) || frameMax_bytes <= FRAME_OVERHEAD_BYTES) {
      throw new AmqpError(ReplyCode.internalError, `frame max ${frameMax_bytes} cannot carry a frame`);
    }
    this.sink = sink;
    this.frameMax = frameMax_bytes;
  }

  /** True after an error: the connection must close. */
  get dead(): boolean {
    return this.state === State.dead;
  }

  /** Called from a sink callback: push() returns after the current frame. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  /**
   * Consumes chunk and returns the bytes consumed: chunk.length, or less when the sink paused
   * (push the rest again after resume()). Consumes nothing while paused. Throws on a dead parser.
   */
  push(chunk: Uint8Array): number {
    if (this.state === State.dead) {
      throw new AmqpError(ReplyCode.frameError, "frame parser stopped after an earlier error");
    }
    try {
      return this.consume(chunk);
    } catch (error) {
      this.state = State.dead;
      throw error;
    }
  }

  private consume(chunk: Uint8Array): number {
    const n = chunk.length;
    let pos = 0;
    while (pos < n && !this.paused) {
      if (this.state === State.frameHeader && this.assembled_bytes === 0) {
        // Fast path: frames wholly inside the chunk go to the sink in place.
        if (n - pos >= FRAME_HEADER_BYTES) {
          const type = chunk[pos]!;
          const channel = (chunk[pos + 1]! << 8) | chunk[pos + 2]!;
          const size = readU32(chunk, pos + 3);
          this.checkSize(type, size);
          if (n - pos >= size + FRAME_OVERHEAD_BYTES) {
            const payloadAt = pos + FRAME_HEADER_BYTES;
            this.checkFrame(type, chunk, payloadAt, size);
            pos = payloadAt + size + 1;
            this.sink.onFrame(type, channel, chunk, payloadAt, size);
            continue;
          }
        }
        pos += this.gather(chunk, pos);
      } else if (this.state === State.protocolHeader && this.assembled_bytes === 0 && n - pos >= PROTOCOL_HEADER_BYTES) {
        const at = pos;
        pos += PROTOCOL_HEADER_BYTES;
        this.state = State.frameHeader;
        this.sink.onProtocolHeader(chunk.subarray(at, at + PROTOCOL_HEADER_BYTES));
      } else {
        pos += this.gather(chunk, pos);
      }
    }
    return pos;
  }

  /**
   * Copies bytes of a split header or frame into the assembly buffer, and hands the
   * header or frame over once complete. Returns the bytes taken from chunk.
   */
  private gather(chunk: Uint8Array, pos: number): number {
    const target = this.targetBytes();
    const take = Math.min(target - this.assembled_bytes, chunk.length - pos);
    this.assembly.set(chunk.subarray(pos, pos + take), this.assembled_bytes);
    this.assembled_bytes += take;
    if (this.assembled_bytes < target) return take;

    const a = this.assembly;
    switch (this.state) {
      case State.protocolHeader:
        this.assembled_bytes = 0;
        this.state = State.frameHeader;
        this.sink.onProtocolHeader(a.subarray(0, PROTOCOL_HEADER_BYTES));
        break;
      case State.frameHeader:
        this.type = a[0]!;
        this.channel = (a[1]! << 8) | a[2]!;
        this.size_bytes = readU32(a, 3);
        this.checkSize(this.type, this.size_bytes);
        this.growAssembly(this.size_bytes + FRAME_OVERHEAD_BYTES);
        this.state = State.framePayload;
        break;
      case State.framePayload:
        this.checkFrame(this.type, a, FRAME_HEADER_BYTES, this.size_bytes);
        this.assembled_bytes = 0;
        this.state = State.frameHeader;
        this.sink.onFrame(this.type, this.channel, a, FRAME_HEADER_BYTES, this.size_bytes);
        break;
    }
    return take;
  }

  private targetBytes(): number {
    switch (this.state) {
      case State.protocolHeader:
        return PROTOCOL_HEADER_BYTES;
      case State.frameHeader:
        return FRAME_HEADER_BYTES;
      default:
        return this.size_bytes + FRAME_OVERHEAD_BYTES;
    }
  }

  private growAssembly(needed_bytes: number): void {
    if (needed_bytes <= this.assembly.length) return;
    const grown = new Uint8Array(Math.max(needed_bytes, this.assembly.length * 2));
    grown.set(this.assembly.subarray(0, this.assembled_bytes));
    this.assembly = grown;
  }

  /** rabbit_reader: PayloadSize > FrameMax - 8 + 8 (its fudge) is fatal. */
  private checkSize(type: number, size: number): void {
    if (size > this.frameMax) {
      throw frameError(type, `{frame_too_large,${size},${this.frameMax - FRAME_OVERHEAD_BYTES}}`, EMPTY, 0, 0);
    }
  }

  /** The frame-end octet, then what rabbit_command_assembler:analyze_frame/2 accepts. */
  private checkFrame(type: number, buf: Uint8Array, payloadAt: number, size: number): void {
    const end = buf[payloadAt + size]!;
    if (end !== FRAME_END) {
      throw frameError(type, `{invalid_frame_end_marker,${end}}`, buf, payloadAt, size);
    }
    const known =
      type === FrameType.body ||
      (type === FrameType.method && size >= METHOD_IDS_BYTES) ||
      (type === FrameType.header && size >= CONTENT_HEADER_FIXED_BYTES) ||
      (type === FrameType.heartbeat && size === 0);
    if (!known) throw frameError(type, "unknown_frame", buf, payloadAt, size);
  }
}

const EMPTY = new Uint8Array(0);

function readU32(buf: Uint8Array, at: number): number {
  return buf[at]! * 0x1000000 + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}

/** rabbit_reader:frame_error/5: "type ~tp, ~ts octets = ~tp: ~tp". */
function frameError(type: number, reason: string, buf: Uint8Array, offset: number, size: number): AmqpError {
  const shown = Math.min(size, SNIPPET_MAX_BYTES);
  const which = size <= SNIPPET_MAX_BYTES ? "all" : `first ${SNIPPET_MAX_BYTES}`;
  const octets = Array.from(buf.subarray(offset, offset + shown)).join(",");
  return new AmqpError(ReplyCode.frameError, `type ${type}, ${which} octets = <<${octets}>>: ${reason}`);
}
