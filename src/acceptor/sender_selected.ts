// Sender-selected distribution (RabbitMQ's CC and BCC headers): the message is also routed with
// each routing key the headers list, and BCC never reaches a consumer. As rabbit_basic does,
// a CC or BCC that is not an array refuses the publish (406 "invalid message"), and array
// elements that are not strings are skipped.
import { fieldTypeName } from "../broker/queue_arguments.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { decodeProperties, encodeProperties, PropertyFlag } from "../protocol/properties.ts";
import type { FieldTable, FieldValue } from "../protocol/table.ts";

export interface SenderSelected {
  /** The CC and BCC routing keys, in header order (CC first). */
  keys: string[];
  /** BCC was present: the delivered properties must be rewritten without it. */
  bcc: boolean;
}

/** The extra routing keys, or null when the headers name none. Throws RabbitMQ's 406. */
export function senderSelected(headers: FieldTable | undefined): SenderSelected | null {
  if (headers === undefined) return null;
  const cc = headers["CC"];
  const bcc = headers["BCC"];
  if (cc === undefined && bcc === undefined) return null;
  const keys: string[] = [];
  addKeys(keys, "CC", cc);
  addKeys(keys, "BCC", bcc);
  return { keys, bcc: bcc !== undefined };
}

function addKeys(keys: string[], header: string, value: FieldValue | undefined): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    throw new AmqpError(ReplyCode.preconditionFailed, `invalid message: {unacceptable_type_in_header,"${header}",${fieldTypeName(value) ?? "long"}}`, "basic.publish");
  }
  for (const key of value) if (typeof key === "string") keys.push(key);
}

/** Whether the raw properties carry headers at all (so plain publishes decode nothing). */
export function hasHeaders(raw: Uint8Array, offset: number, length: number): boolean {
  return length >= 2 && (raw[offset]! & (PropertyFlag.headers >> 8)) !== 0;
}

/**
 * The same properties without the BCC header. Unlike the reply-to rewrite this re-encodes the
 * properties (the headers table is inside them); it happens only for a message that has a BCC.
 */
export function withoutBcc(raw: Uint8Array, offset: number, length: number): Uint8Array {
  const props = decodeProperties(raw, offset, length);
  if (props.headers !== undefined) {
    const { BCC: _bcc, ...rest } = props.headers;
    props.headers = rest;
  }
  return encodeProperties(props);
}
