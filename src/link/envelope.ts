// The message envelope: how a message travels in publish, deliver and get-ok records and how a
// shard stores it, unchanged from the publisher's frames to the consumer's:
//   u8 exchange length, exchange, u8 routing-key length, routing key,
//   u32 properties length, raw properties (flags + values as the publisher sent them), body.
// Exchange and routing key are AMQP shortstrs already, so a delivery copies them as one block.
import { peekExpiration } from "../protocol/properties.ts";
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
