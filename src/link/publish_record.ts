// The publish record (ToShard.publish) as the acceptor builds it in one buffer while a message's
// frames arrive: the header fields are placeholders until the message is complete and routed.
//   u8 type, u8 flags (PublishFlag), u32 channelId, f64 publishSeq, u32 envelopeLength, envelope
// The target queue ids follow as the record's tail (ShardLink.publish), one list per shard.
import { beginEnvelope } from "./envelope.ts";
import type { RecordBuilder } from "./record_codec.ts";
import { ToShard } from "./records.ts";

const FLAGS_AT = 1;
const CHANNEL_AT = 2;
const SEQ_AT = 6;
const ENVELOPE_LENGTH_AT = 14;
const ENVELOPE_AT = 18;

/** Header placeholders and the envelope's exchange and routing key; properties and body follow. */
export function beginPublishRecord(r: RecordBuilder, exchange: string, routingKey: string): void {
  r.reset().u8v(ToShard.publish).u8v(0).u32(0).f64(0).u32(0);
  beginEnvelope(r, exchange, routingKey);
}

/**
 * The envelope is complete: its length goes into the header. `bodyAfter_bytes`: the body is not
 * in `r` but follows it when the record is sent (ShardLink.publish's body).
 */
export function endPublishEnvelope(r: RecordBuilder, bodyAfter_bytes = 0): void {
  r.view.setUint32(ENVELOPE_LENGTH_AT, r.length + bodyAfter_bytes - ENVELOPE_AT);
}

/** The routed message's flags, channel and confirm sequence (0 = unconfirmed). */
export function stampPublishRecord(r: RecordBuilder, flags: number, channelId: number, seq: number): void {
  r.u8[FLAGS_AT] = flags;
  r.view.setUint32(CHANNEL_AT, channelId);
  r.view.setFloat64(SEQ_AT, seq);
}
