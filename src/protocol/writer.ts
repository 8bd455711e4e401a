// Frames out: the writer appends whole frames to one growable buffer that the connection
// flushes with take(). The basic.* writers are the hot path of delivery and confirms: they
// write the method frame straight from their arguments, allocating nothing.

import { AmqpError, ReplyCode } from "./errors.ts";
import { ByteWriter } from "./byte_writer.ts";
import { ClassId, FRAME_END, FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FrameType } from "./constants.ts";
import { encodeMethodArgs, methodIds } from "./methods.ts";
import type { Method } from "./methods.ts";

const BASIC_DELIVER = 60;
const BASIC_GET_OK = 71;
const BASIC_ACK = 80;
const BASIC_NACK = 120;
/** A shortstr's worst case with its length octet: 1 + 255. */
const SHORTSTR_MAX_FRAME_BYTES = 256;
/** The largest frame-max a tune can carry (u32). */
const FRAME_MAX_LIMIT_BYTES = 0xffffffff;

export class FrameWriter extends ByteWriter {
  constructor(initial_bytes = 64 * 1024) {
    super(initial_bytes);
  }

  /** A method frame: header, class and method ids, arguments, frame-end. */
  methodFrame(channel: number, method: Method): void {
    const { classId, methodId } = methodIds(method.name);
    const start = this.beginMethod(channel, classId, methodId);
    try {
      encodeMethodArgs(this, method);
    } catch (error) {
      this.length = start; // no half-written frame may reach the socket
      throw error;
    }
    this.endFrame(start);
  }

  /**
   * A content header frame around rawProperties (property flags + values exactly as a
   * publisher sent them, or as encodeProperties made them).
   */
  contentHeader(channel: number, classId: number, bodySize: number, rawProperties: Uint8Array): void {
    if (!Number.isSafeInteger(bodySize) || bodySize < 0) {
      throw new AmqpError(ReplyCode.internalError, `body size ${bodySize} is not a non-negative safe integer`);
    }
    this.ensure(FRAME_OVERHEAD_BYTES + 12 + rawProperties.length);
    this.putFrameHeader(FrameType.header, channel, 12 + rawProperties.length);
    this.putU16(classId);
    this.putU16(0); // weight
    this.putU64(bodySize);
    this.u8.set(rawProperties, this.length);
    this.length += rawProperties.length;
    this.putU8(FRAME_END);
  }

  /** Body frames of at most frameMax bytes each (payload frameMax - 8); an empty body writes none. */
  bodyFrames(channel: number, body: Uint8Array, frameMax: number): void {
    if (!Number.isInteger(frameMax) || frameMax <= FRAME_OVERHEAD_BYTES || frameMax > FRAME_MAX_LIMIT_BYTES) {
      throw new AmqpError(ReplyCode.internalError, `frame max ${frameMax} cannot carry a body`);
    }
    const chunk_bytes = frameMax - FRAME_OVERHEAD_BYTES;
    const frames = Math.ceil(body.length / chunk_bytes);
    this.ensure(body.length + frames * FRAME_OVERHEAD_BYTES);
    for (let offset = 0; offset < body.length; offset += chunk_bytes) {
      const size = Math.min(chunk_bytes, body.length - offset);
      this.putFrameHeader(FrameType.body, channel, size);
      this.u8.set(body.subarray(offset, offset + size), this.length);
      this.length += size;
      this.putU8(FRAME_END);
    }
  }

  heartbeat(): void {
    this.ensure(FRAME_OVERHEAD_BYTES);
    this.putFrameHeader(FrameType.heartbeat, 0, 0);
    this.putU8(FRAME_END);
  }

  basicDeliver(
    channel: number,
    consumerTag: string,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
  ): void {
    // Room for the largest such frame, so the put* calls between the strings need no check.
    this.ensure(FRAME_OVERHEAD_BYTES + 4 + 3 * SHORTSTR_MAX_FRAME_BYTES + 9);
    const start = this.beginMethod(channel, ClassId.basic, BASIC_DELIVER);
    try {
      this.writeShortStr(consumerTag);
      this.putU64(deliveryTag);
      this.putU8(redelivered ? 1 : 0);
      this.writeShortStr(exchange);
      this.writeShortStr(routingKey);
    } catch (error) {
      this.length = start;
      throw error;
    }
    this.endFrame(start);
  }

  basicGetOk(
    channel: number,
    deliveryTag: number,
    redelivered: boolean,
    exchange: string,
    routingKey: string,
    messageCount: number,
  ): void {
    this.ensure(FRAME_OVERHEAD_BYTES + 4 + 2 * SHORTSTR_MAX_FRAME_BYTES + 13);
    const start = this.beginMethod(channel, ClassId.basic, BASIC_GET_OK);
    try {
      this.putU64(deliveryTag);
      this.putU8(redelivered ? 1 : 0);
      this.writeShortStr(exchange);
      this.writeShortStr(routingKey);
    } catch (error) {
      this.length = start;
      throw error;
    }
    this.putU32(messageCount);
    this.endFrame(start);
  }

  basicAck(channel: number, deliveryTag: number, multiple: boolean): void {
    this.ensure(FRAME_OVERHEAD_BYTES + 13);
    const start = this.beginMethod(channel, ClassId.basic, BASIC_ACK);
    this.putU64(deliveryTag);
    this.putU8(multiple ? 1 : 0);
    this.endFrame(start);
  }

  basicNack(channel: number, deliveryTag: number, multiple: boolean, requeue: boolean): void {
    this.ensure(FRAME_OVERHEAD_BYTES + 13);
    const start = this.beginMethod(channel, ClassId.basic, BASIC_NACK);
    this.putU64(deliveryTag);
    this.putU8((multiple ? 1 : 0) | (requeue ? 2 : 0));
    this.endFrame(start);
  }

  /**
   * The bytes written so far, as a view of the internal buffer; the writer then starts over.
   * The view is overwritten by the next write: send or copy it before writing again.
   */
  take(): Uint8Array {
    const written = this.u8.subarray(0, this.length);
    this.length = 0;
    return written;
  }

  private putFrameHeader(type: number, channel: number, size: number): void {
    this.putU8(type);
    this.putU16(channel);
    this.putU32(size);
  }

  /** Writes a method frame header with a size to be patched by endFrame; returns the frame start. */
  private beginMethod(channel: number, classId: number, methodId: number): number {
    this.ensure(FRAME_HEADER_BYTES + 4);
    const start = this.length;
    this.putFrameHeader(FrameType.method, channel, 0);
    this.putU16(classId);
    this.putU16(methodId);
    return start;
  }

  private endFrame(start: number): void {
    this.view.setUint32(start + 3, this.length - start - FRAME_HEADER_BYTES);
    this.writeU8(FRAME_END);
  }
}
