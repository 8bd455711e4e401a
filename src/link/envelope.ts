// The message envelope: how a message travels in publish, deliver and get-ok records and how a
// shard stores it, unchanged from the publisher's frames to the consumer's:
//   u8 exchange length, exchange, u8 routing-key length, routing key,
//   u32 properties length, raw properties (flags + values as the publisher sent them), body.
// Exchange and routing key are AMQP shortstrs already, so a delivery copies them as one block.
import { decodeProperties, encodeProperties, peekExpiration, type BasicProperties } from "../protocol/properties.ts";
import type { RecordBuilder } from "./record_codec.ts";

/** Starts an envelope in `r`: exchange and routing key. Properties and body follow (writeContent). */
export function beginEnvelope(r: RecordBuilder, exchange: string, routingKey: string): void {
  r.str8(exchange).str8(routingKey);
}

/** Bytes of an envelope's exchange and routing key, each with its length octet. */
export function envelopeKeysLength(env: Uint8Array, at: number): number {
  const exchange = env[at]!;
  return 2 + exchange + env[at + 1 + exchange]!;
}

/** Where the envelope's u32 properties length sits. */
export function envelopePropsLengthAt(env: Uint8Array, at: number): number {
  return at + envelopeKeysLength(env, at);
}

export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** The per-message TTL in the envelope's expiration property (validated by the acceptor). */
export function envelopeExpiration_ms(env: Uint8Array, at: number): number | undefined {
  const lengthAt = envelopePropsLengthAt(env, at);
  const expiration = peekExpiration(env, lengthAt + 4, readU32(env, lengthAt));
  return expiration === undefined ? undefined : Number(expiration);
}

const utf8 = new TextDecoder();

/** An envelope's parts, decoded; `body` is a view into the envelope (copy it to keep it). */
export interface EnvelopeParts {
  exchange: string;
  routingKey: string;
  props: BasicProperties;
  body: Uint8Array;
}

/** Decodes the envelope buf[at, at + length): keys and properties decoded, the body a view. */
export function readEnvelope(env: Uint8Array, at: number, length: number): EnvelopeParts {
  const exchangeLength = env[at]!;
  const keyAt = at + 1 + exchangeLength;
  const propsLengthAt = keyAt + 1 + env[keyAt]!;
  const propsLength = readU32(env, propsLengthAt);
  return {
    exchange: utf8.decode(env.subarray(at + 1, keyAt)),
    routingKey: utf8.decode(env.subarray(keyAt + 1, propsLengthAt)),
    props: decodeProperties(env, propsLengthAt + 4, propsLength),
    body: env.subarray(propsLengthAt + 4 + propsLength, at + length),
  };
}

/** An envelope in place: buf[at, at + length). */
export interface EnvelopeSpan {
  buf: Uint8Array;
  at: number;
  length: number;
}

/**
 * The envelope with `count` (returns so far, from a quorum queue) in an `x-delivery-count` header
 * (a long, as RabbitMQ adds it): a copy, or the envelope itself when `count` is undefined. RabbitMQ
 * adds it to a quorum queue's basic.get always and to a consumer's delivery once it is above 0,
 * so only those pay the copy.
 */
export function withDeliveryCount(span: EnvelopeSpan, count: number | undefined): EnvelopeSpan {
  if (count === undefined) return span;
  const { buf: env, at, length } = span;
  const lengthAt = envelopePropsLengthAt(env, at);
  const propsLength = readU32(env, lengthAt);
  const props = decodeProperties(env, lengthAt + 4, propsLength);
  props.headers = { ...(props.headers ?? {}), "x-delivery-count": BigInt(count) };
  const encoded = encodeProperties(props);
  const keys = lengthAt - at;
  const bodyAt = lengthAt + 4 + propsLength;
  const out = new Uint8Array(keys + 4 + encoded.length + (at + length - bodyAt));
  out.set(env.subarray(at, lengthAt), 0);
  new DataView(out.buffer).setUint32(keys, encoded.length);
  out.set(encoded, keys + 4);
  out.set(env.subarray(bodyAt, at + length), keys + 4 + encoded.length);
  return { buf: out, at: 0, length: out.length };
}
