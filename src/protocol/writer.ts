// Frames out: the writer appends whole frames to one growable buffer that the connection
// flushes with take(). The basic.* writers are the hot path of delivery and confirms: they
// write the method frame straight from their arguments, allocating nothing.

import { AmqpError, ReplyCode } from "./errors.ts";
import { copyBytes } from "../copy_bytes.ts";
import { ByteWriter } from "./byte_writer.ts";
import { ClassId, FRAME_END, FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, FrameType } from "./constants.ts";
import { encodeMethodArgs, methodIds } from "./methods.ts";
import type { Method } from "./methods.ts";
import { envelopeKeysLength, readU32 } from "../link/envelope.ts";

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
  contentHeader(channel: number, classId: number, bodySize: number, rawProperties: Uint8Array, propsAt = 0, propsLength = rawProperties.length): void {
    if (!Number.isSafeInteger(bodySize) || bodySize < 0) {
      throw new AmqpError(ReplyCode.internalError, `body size ${bodySize} is not a non-negative safe integer`);
    }
    this.ensure(FRAME_OVERHEAD_BYTES + 12 + propsLength);
    this.putFrameHeader(FrameType.header, channel, 12 + propsLength);
    this.putU16(classId);
    this.putU16(0); // weight
    this.putU64(bodySize);
    copyBytes(this.u8, this.length, rawProperties, propsAt, propsLength);
    this.length += propsLength;
    this.putU8(FRAME_END);
  }

  /** Body frames of at most frameMax bytes each (payload frameMax - 8); an empty body writes none. */
  bodyFrames(channel: number, body: Uint8Array, frameMax: number, bodyAt = 0, bodyLength = body.length): void {
    if (!Number.isInteger(frameMax) || frameMax <= FRAME_OVERHEAD_BYTES || frameMax > FRAME_MAX_LIMIT_BYTES) {
      throw new AmqpError(ReplyCode.internalError, `frame max ${frameMax} cannot carry a body`);
    }
    const chunk_bytes = frameMax - FRAME_OVERHEAD_BYTES;
    const frames = Math.ceil(bodyLength / chunk_bytes);
    this.ensure(bodyLength + frames * FRAME_OVERHEAD_BYTES);
    for (let offset = 0; offset < bodyLength; offset += chunk_bytes) {
      const size = Math.min(chunk_bytes, bodyLength - offset);
      this.putFrameHeader(FrameType.body, channel, size);
      copyBytes(this.u8, this.length, body, bodyAt + offset, size);
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

  /**
   * A whole basic.deliver (method, content header, body frames) from a message envelope as the
   * shards keep it: u8 exchange length, exchange, u8 routing-key length, routing key, u32 properties
   * length, raw properties, body. Exchange and routing key are already AMQP shortstrs there, so
   * they are copied as one block; nothing is decoded and nothing allocated.
   */
  deliverEnvelope(channel: number, consumerTag: string, deliveryTag: number, redelivered: boolean, env: Uint8Array, at: number, length: number, frameMax: number): void {
    const keys = envelopeKeysLength(env, at);
    this.ensure(FRAME_OVERHEAD_BYTES + 4 + SHORTSTR_MAX_FRAME_BYTES + 9 + keys);
    const start = this.beginMethod(channel, ClassId.basic, BASIC_DELIVER);
    try {
      this.writeShortStr(consumerTag);
    } catch (error) {
      this.length = start;
      throw error;
    }
    this.putU64(deliveryTag);
    this.putU8(redelivered ? 1 : 0);
    this.putBytes(env, at, keys);
    this.endFrame(start);
    this.envelopeContent(channel, env, at + keys, at + length, frameMax);
  }

  /** basic.get-ok with its content from a message envelope (see deliverEnvelope). */
  getOkEnvelope(channel: number, deliveryTag: number, redelivered: boolean, messageCount: number, env: Uint8Array, at: number, length: number, frameMax: number): void {
    const keys = envelopeKeysLength(env, at);
    this.ensure(FRAME_OVERHEAD_BYTES + 4 + 13 + keys);
    const start = this.beginMethod(channel, ClassId.basic, BASIC_GET_OK);
    this.putU64(deliveryTag);
    this.putU8(redelivered ? 1 : 0);
    this.putBytes(env, at, keys);
    this.putU32(messageCount);
    this.endFrame(start);
    this.envelopeContent(channel, env, at + keys, at + length, frameMax);
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

  /** Content header and body frames from an envelope's properties-length field to its end. */
  private envelopeContent(channel: number, env: Uint8Array, propsLengthAt: number, end: number, frameMax: number): void {
    const propsLength = readU32(env, propsLengthAt);
    const propsAt = propsLengthAt + 4;
    const bodyAt = propsAt + propsLength;
    this.contentHeader(channel, ClassId.basic, end - bodyAt, env, propsAt, propsLength);
    this.bodyFrames(channel, env, frameMax, bodyAt, end - bodyAt);
  }

  private putBytes(src: Uint8Array, at: number, length: number): void {
    copyBytes(this.u8, this.length, src, at, length);
    this.length += length;
  }

  /**
   * The bytes written so far, handed over for good (no copy): the writer goes on in a fresh buffer
   * of its initial size (not the grown one: zero-filling megabytes per backed-up write cost more
   * than the copies it saved). For output that must wait (a socket that took only part of it).
   */
  detach(): Uint8Array {
    const written = this.u8.subarray(0, this.length);
    this.u8 = new Uint8Array(this.initial_bytes);
    this.view = new DataView(this.u8.buffer);
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
