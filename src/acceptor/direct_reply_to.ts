// Direct reply-to (RabbitMQ's amq.rabbitmq.reply-to): a requester consumes from the pseudo-queue
// with no-ack and publishes with reply-to "amq.rabbitmq.reply-to"; Warren rewrites that to a
// name unique to the requester's channel, and a reply published to the default exchange with
// that name as routing key goes straight to the channel — no queue, no shard.
import { randomBytes } from "node:crypto";
import { ByteWriter } from "../protocol/byte_writer.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { peekReplyTo, PropertyFlag, replyToRange } from "../protocol/properties.ts";

export const REPLY_TO_QUEUE = "amq.rabbitmq.reply-to";
export const REPLY_TO_PREFIX = "amq.rabbitmq.reply-to.";

/** A per-channel name that cannot be guessed: the channel id and 12 random bytes. */
export function replyToName(channelId: number): string {
  return `${REPLY_TO_PREFIX}${channelId.toString(36)}.${randomBytes(12).toString("base64url")}`;
}

/** True when the raw properties carry reply-to "amq.rabbitmq.reply-to" (checked on the flag first). */
export function asksForDirectReply(raw: Uint8Array, offset: number, length: number): boolean {
  if (length < 2) return false;
  const flags = (raw[offset]! << 8) | raw[offset + 1]!;
  if ((flags & PropertyFlag.replyTo) === 0) return false;
  return peekReplyTo(raw, offset, length) === REPLY_TO_QUEUE;
}

/**
 * The same properties with reply-to replaced by the channel's reply name. Every other byte is
 * copied as it came: nothing Warren does not read is decoded and encoded again, which could change
 * it (a field table's integer widths, 64-bit values).
 */
export function withReplyTo(raw: Uint8Array, offset: number, length: number, name: string): Uint8Array {
  const range = replyToRange(raw, offset, length);
  if (range === undefined) throw new AmqpError(ReplyCode.internalError, "no reply-to to replace");
  const w = new ByteWriter(length + name.length);
  w.writeBytes(raw.subarray(offset, range.start));
  w.writeShortStr(name);
  w.writeBytes(raw.subarray(range.end, offset + length));
  return w.u8.slice(0, w.length);
}
