// The management API's traffic fields in RabbitMQ 3.10's shapes (message_stats, recv_oct / send_oct,
// the messages_*_details of queue depths), and the sweep that samples every counted object for
// their rates (counter_rates.ts). As RabbitMQ, an object shows a group of message_stats fields only
// once it has had that kind of traffic, and no message_stats at all before any: the publish group
// after its first publish, the delivery group after its first delivery, get or empty get.
import { ByteCounts, MessageCounts } from "../broker/message_counts.ts";
import type { Vhost } from "../broker/vhost.ts";
import type { BrokerCounters } from "../broker/broker.ts";
import { ExchangeCounts } from "../routing/exchange_state.ts";
import type { AdminContext } from "./admin_context.ts";
import type { CounterRates, Sweep } from "./counter_rates.ts";

type Json = Record<string, unknown>;
type MessageField = (typeof MessageCounts.keys)[number];

/** A channel's and a vhost's publish group; a queue's is only `publish`. */
export const CHANNEL_PUBLISH_FIELDS: readonly MessageField[] = ["publish", "confirm", "return_unroutable", "drop_unroutable"];
export const QUEUE_PUBLISH_FIELDS: readonly MessageField[] = ["publish"];
const DELIVERY_FIELDS: readonly MessageField[] = ["ack", "deliver", "deliver_no_ack", "get", "get_empty", "get_no_ack", "redeliver"];
/** deliver_get is the sum of these. */
const DELIVER_GET: readonly MessageField[] = ["deliver", "deliver_no_ack", "get", "get_no_ack"];

/** `key` and `key_details: { rate }`, the rate of the sum of `of` (the key itself by default). */
function put(out: Json, rates: CounterRates, owner: object, key: string, value: number, of: readonly string[] = [key]): void {
  out[key] = value;
  out[`${key}_details`] = { rate: rates.rate(owner, ...of) };
}

/** `{ message_stats }` of a channel, queue or vhost (sampled as `owner`), or {} before any traffic. */
export function messageStats(rates: CounterRates, owner: object, counts: MessageCounts, publishFields: readonly MessageField[]): Json {
  const stats: Json = {};
  if (counts.publish > 0) for (const key of publishFields) put(stats, rates, owner, key, counts[key]);
  const deliverGet = counts.deliver + counts.deliver_no_ack + counts.get + counts.get_no_ack;
  if (deliverGet + counts.get_empty > 0) {
    for (const key of DELIVERY_FIELDS) put(stats, rates, owner, key, counts[key]);
    put(stats, rates, owner, "deliver_get", deliverGet, DELIVER_GET);
  }
  return Object.keys(stats).length === 0 ? {} : { message_stats: stats };
}

/** An exchange's `{ message_stats }`: publish_in once something was published to it, publish_out once it routed a copy. */
export function exchangeMessageStats(rates: CounterRates, counts: ExchangeCounts): Json {
  const stats: Json = {};
  if (counts.publish_in > 0) put(stats, rates, counts, "publish_in", counts.publish_in);
  if (counts.publish_out > 0) put(stats, rates, counts, "publish_out", counts.publish_out);
  return Object.keys(stats).length === 0 ? {} : { message_stats: stats };
}

/** recv_oct and send_oct with their rates, as connections and vhosts show them. */
export function octetStats(rates: CounterRates, owner: object, bytes: ByteCounts): Json {
  const stats: Json = {};
  put(stats, rates, owner, "recv_oct", bytes.recv_oct);
  put(stats, rates, owner, "send_oct", bytes.send_oct);
  return stats;
}

/** A queue depth's *_details, summed over `queues` (each sampled under its QueueRecord). */
export function depthRate(rates: CounterRates, queues: Iterable<object>, key: "messages" | "messages_ready" | "messages_unacknowledged"): { rate: number } {
  let rate = 0;
  for (const q of queues) rate += rates.rate(q, key);
  return { rate: Math.round(rate * 10) / 10 };
}

export interface VhostTotals {
  readonly messages: MessageCounts;
  readonly bytes: ByteCounts;
}

/** Every vhost's totals: its closed channels and connections, plus its live ones'. */
export function vhostTotals(ctx: AdminContext): Map<Vhost, VhostTotals> {
  const totals = new Map<Vhost, VhostTotals>();
  for (const vhost of ctx.broker.vhosts.values()) {
    const t = { messages: new MessageCounts(), bytes: new ByteCounts() };
    t.messages.add(vhost.closedChannels);
    t.bytes.add(vhost.closedConnections);
    totals.set(vhost, t);
  }
  for (const c of ctx.server.connections) {
    const t = c.openedVhost === null ? undefined : totals.get(c.openedVhost);
    if (t === undefined) continue;
    t.bytes.add(c.bytes);
    // A released channel's counts are already in closedChannels (it may wait for close-ok).
    for (const channel of c.channelList()) if (!channel.isReleased) t.messages.add(channel.counts);
  }
  return totals;
}

/** Queues recorded between two turns of the event loop (about a millisecond's work). */
const SWEEP_SLICE_QUEUES = 2_000;

/** A queue's depth as the shards last reported it, sampled for the messages_*_details rates. */
class QueueDepth {
  static readonly keys = ["messages", "messages_ready", "messages_unacknowledged"] as const;
  ready = 0;
  unacked = 0;

  sample(into: Float64Array): void {
    into[0] = this.ready + this.unacked;
    into[1] = this.ready;
    into[2] = this.unacked;
  }
}

/**
 * Records every counted object for the rates, after the shards' depth numbers are in:
 * the broker's totals, each vhost's totals (under its closed-counts objects, which live as long as
 * it does), exchange, queue (counts, and depth under the QueueRecord), connection and channel.
 */
export function sweepCounters(ctx: AdminContext): Sweep {
  const broker = new BrokerTotals(ctx.broker.counters);
  return async (record) => {
    const stats = await ctx.broker.queueStats();
    record(ctx.broker.counters, BrokerTotals.keys, broker);
    const depth = new QueueDepth();
    let queues = 0;
    for (const [vhost, t] of vhostTotals(ctx)) {
      record(vhost.closedChannels, MessageCounts.keys, t.messages);
      record(vhost.closedConnections, ByteCounts.keys, t.bytes);
      for (const x of vhost.routes.entries()) record(x.counts, ExchangeCounts.keys, x.counts);
      for (const q of vhost.queues.values()) {
        // Tens of thousands of queues take milliseconds: let the event loop in between slices.
        if (++queues % SWEEP_SLICE_QUEUES === 0) await new Promise((resolve) => setImmediate(resolve));
        record(q.counts, MessageCounts.keys, q.counts);
        const s = stats.get(q.id);
        depth.ready = s?.ready ?? 0;
        depth.unacked = s?.unacked ?? 0;
        record(q, QueueDepth.keys, depth);
      }
    }
    for (const c of ctx.server.connections) {
      record(c.bytes, ByteCounts.keys, c.bytes);
      for (const channel of c.channelList()) record(channel.counts, MessageCounts.keys, channel.counts);
    }
  };
}

/** The broker's global counters (the overview's message_stats), sampled in their key order. */
class BrokerTotals {
  static readonly keys = ["published", "delivered", "acked", "confirmed", "returned"] as const;

  constructor(private readonly counters: BrokerCounters) {}

  sample(into: Float64Array): void {
    BrokerTotals.keys.forEach((key, i) => (into[i] = this.counters[key]));
  }
}
