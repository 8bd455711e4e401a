// Dead-lettering as RabbitMQ's rabbit_dead_letter does it: the headers a dead-lettered message
// carries on, and the routing keys it is routed with. Pure functions of the message and the event,
// so the x-death shape is checked without a broker.
import type { BasicProperties } from "../protocol/properties.ts";
import { Decimal, Timestamp, type FieldTable, type FieldValue } from "../protocol/table.ts";

export interface DeathEvent {
  /** The queue that let the message go. */
  queue: string;
  reason: "rejected" | "expired" | "maxlen" | "delivery_limit";
  /** The exchange the message was last published to, and its routing key. */
  exchange: string;
  routingKey: string;
  now_s: number;
}

export interface DeadLettered {
  props: BasicProperties;
  /** Routing keys for the dead-letter exchange: the queue's dead-letter routing key, or the message's own (with its CC). */
  routingKeys: string[];
}

function isTable(v: FieldValue | undefined): v is FieldTable {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Timestamp) && !(v instanceof Decimal);
}

function stringsOf(v: FieldValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/**
 * The x-death header, most recent first: one table per (queue, reason) with `count` (long)
 * incremented and the entry moved to the front on a repeat; `original-expiration` keeps an
 * expiration the message loses; x-first-death-* are set once. A dead-letter routing key replaces
 * the message's keys and drops its CC header.
 */
export function deadLetter(props: BasicProperties, event: DeathEvent, deadLetterRoutingKey: string | undefined): DeadLettered {
  const headers: FieldTable = { ...(props.headers ?? {}) };
  const ownKeys = [event.routingKey, ...stringsOf(headers["CC"])];
  const deaths = (Array.isArray(headers["x-death"]) ? headers["x-death"] : []).filter(isTable);
  const same = deaths.findIndex((d) => d["queue"] === event.queue && d["reason"] === event.reason);
  let entry: FieldTable;
  if (same >= 0) {
    const previous = deaths.splice(same, 1)[0]!;
    const count = previous["count"];
    entry = { ...previous, count: BigInt(typeof count === "bigint" || typeof count === "number" ? count : 0) + 1n };
  } else {
    entry = {
      count: 1n,
      reason: event.reason,
      queue: event.queue,
      time: new Timestamp(BigInt(event.now_s)),
      exchange: event.exchange,
      "routing-keys": ownKeys,
    };
    if (props.expiration !== undefined) entry["original-expiration"] = props.expiration;
  }
  headers["x-death"] = [entry, ...deaths];
  headers["x-first-death-queue"] ??= event.queue;
  headers["x-first-death-reason"] ??= event.reason;
  headers["x-first-death-exchange"] ??= event.exchange;
  let routingKeys = ownKeys;
  if (deadLetterRoutingKey !== undefined) {
    routingKeys = [deadLetterRoutingKey];
    delete headers["CC"];
  }
  const { expiration: _expiration, ...rest } = props;
  return { props: { ...rest, headers }, routingKeys };
}

/**
 * A dead-lettered message would come back to `queue` for the same kind of event: RabbitMQ drops it
 * when the queue is in its x-death and none of its deaths was a rejection (a client's decision).
 */
export function isCycle(headers: FieldTable | undefined, queue: string): boolean {
  const deaths = (Array.isArray(headers?.["x-death"]) ? headers["x-death"] : []).filter(isTable);
  return deaths.some((d) => d["queue"] === queue) && !deaths.some((d) => d["reason"] === "rejected");
}
