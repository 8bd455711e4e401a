// One AMQP channel: its state machine and every channel-level method. This is the boundary where
// domain errors (AmqpError thrown here or below) become channel.close or connection.close — the
// connection's guard does that. A method that needs a shard's answer (declare counts, get,
// purge, delete, tx.commit) suspends the channel: frames that arrive meanwhile wait in order in
// the channel's backlog, so replies always go out in the order the methods came in.
import type { Broker, ChannelEndpoint, ReplyTarget } from "../broker/broker.ts";
import { ConsumerRecord } from "../broker/consumer_record.ts";
import { MessageCounts } from "../broker/message_counts.ts";
import { generatedName, resourceName } from "../broker/names.ts";
import { fieldTypeName } from "../broker/queue_arguments.ts";
import { FrameType } from "../protocol/constants.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { Method, MethodName, MethodOf } from "../protocol/methods.ts";
import { decodeMethod } from "../protocol/methods.ts";
import { peekDeliveryMode, peekHeaders, peekUserId, PropertyFlag } from "../protocol/properties.ts";
import type { FieldTable } from "../protocol/table.ts";
import { withDeliveryCount } from "../link/envelope.ts";
import { stampPublishRecord } from "../link/publish_record.ts";
import { PublishFlag, Settle } from "../link/records.ts";
import type { GotMessage } from "../link/shard_link.ts";
import { DEFAULT_EXCHANGE } from "../routing/exchange.ts";
import type { ExchangeCounts } from "../routing/exchange_state.ts";
import type { ChannelHost } from "./channel_host.ts";
import { ConfirmTracker, type ConfirmSink } from "./confirm_tracker.ts";
import { DeliveryTags, type SettledDelivery } from "./delivery_tags.ts";
import { PublishAssembler } from "./publish_assembler.ts";
import { checkPublishProperties } from "./publish_checks.ts";
import { asksForDirectReply, REPLY_TO_PREFIX, REPLY_TO_QUEUE, replyToName, withReplyTo } from "./direct_reply_to.ts";
import { hasHeaders, senderSelected, withoutBcc, type SenderSelected } from "./sender_selected.ts";
import * as topology from "./topology.ts";

/** Frames held while the channel waits for a shard; past this the socket stops being read. */
const BACKLOG_PAUSE_BYTES = 4 * 1024 * 1024;

interface HeldFrame {
  type: number;
  bytes: Uint8Array;
}

/** A publish routed inside a transaction, sent at tx.commit. */
interface TxPublish {
  record: Uint8Array;
  targets: Map<number, number[]>;
}

export class Channel implements ChannelEndpoint, ConfirmSink, ReplyTarget {
  readonly channelId: number;
  readonly creditSlot: number;
  /** This channel's traffic (the management API's message_stats); its vhost's once it closes. */
  readonly counts = new MessageCounts();
  private state: "open" | "closing" | "closed" = "open";
  /** release() ran: resources given back (the state may still be "closing", awaiting close-ok). */
  private released = false;
  private suspended = false;
  private readonly backlog: HeldFrame[] = [];
  private backlogBytes = 0;
  private readonly publish = new PublishAssembler();
  private readonly consumers = new Map<string, ConsumerRecord>();
  private readonly tags = new DeliveryTags();
  private confirms: ConfirmTracker | null = null;
  private tx: { publishes: TxPublish[]; acks: { action: number; settled: SettledDelivery[] }[] } | null = null;
  /** basic.qos global=false: the prefetch new consumers get. */
  private consumerPrefetch = 0;
  /** basic.qos global=true: quorum queues refuse consumers while it is set, as RabbitMQ's. */
  private globalPrefetch = 0;
  private lastQueue = "";
  private readonly queueNames: string[] = [];
  private readonly targets = new Map<number, number[]>();
  private readonly settled: SettledDelivery[] = [];
  /** Direct reply-to: the consumer tag and this channel's reply name, once it consumes replies. */
  private replyTo: { tag: string; name: string } | null = null;
  /** The counters of the exchange the publish being assembled goes to. */
  private publishExchange: ExchangeCounts;
  private readonly defaultExchange: ExchangeCounts;

  constructor(
    readonly number: number,
    private readonly host: ChannelHost,
    private readonly broker: Broker,
  ) {
    this.channelId = broker.newChannelId();
    const slot = broker.credits.allocate();
    if (slot < 0) throw new AmqpError(ReplyCode.resourceError, "no more channels can be opened on this broker");
    this.creditSlot = slot;
    broker.registerChannel(this);
    // The default exchange cannot be deleted: its counters are the channel's for its lifetime.
    this.defaultExchange = this.publishExchange = host.vhost.routes.entry(DEFAULT_EXCHANGE)!.counts;
  }

  /** For admin listings. */
  get info(): { number: number; consumers: number; unacked: number; prefetch: number; confirm: boolean; tx: boolean } {
    return {
      number: this.number,
      consumers: this.consumers.size,
      unacked: this.tags.outstanding,
      prefetch: this.consumerPrefetch,
      confirm: this.confirms !== null,
      tx: this.tx !== null,
    };
  }

  get consuming(): boolean {
    return this.consumers.size > 0;
  }

  get isClosing(): boolean {
    return this.state !== "open";
  }

  /** Released: its counts are in its vhost's closedChannels. */
  get isReleased(): boolean {
    return this.released;
  }

  // --- frame intake --------------------------------------------------------------------------

  /** A frame for this channel, from the connection's parser (payload valid during the call). */
  onFrame(type: number, buf: Uint8Array, offset: number, length: number): void {
    if (this.suspended || this.backlog.length > 0) {
      this.hold(type, buf.slice(offset, offset + length));
      return;
    }
    this.process(type, buf, offset, length);
  }

  private process(type: number, buf: Uint8Array, offset: number, length: number): void {
    if (this.state === "closing") {
      // After we sent channel.close, only close / close-ok matter (RabbitMQ drops the rest).
      if (type === FrameType.method) {
        const m = decodeMethod(buf, offset, length);
        if (m.name === "channel.close-ok") this.host.channelClosed(this);
        else if (m.name === "channel.close") this.host.send(this.number, { name: "channel.close-ok" });
      }
      return;
    }
    if (type === FrameType.method) {
      if (!this.publish.idle) throw this.frameOutOfPlace();
      this.onMethod(decodeMethod(buf, offset, length));
    } else if (type === FrameType.header) {
      if (!this.publish.awaitingHeader) throw this.frameOutOfPlace();
      if (this.publish.header(buf, offset, length)) this.publishComplete();
    } else if (type === FrameType.body) {
      if (this.publish.idle || this.publish.awaitingHeader) throw this.frameOutOfPlace();
      if (this.publish.body(buf, offset, length)) this.publishComplete();
    } else {
      throw new AmqpError(ReplyCode.frameError, `unexpected frame type ${type} on channel ${this.number}`);
    }
  }

  /**
   * rabbit_command_assembler's 505 for a frame of the wrong kind: what it expected depends on
   * where the publish stands, and past basic.publish it names that method.
   */
  private frameOutOfPlace(): AmqpError {
    if (this.publish.idle) return new AmqpError(ReplyCode.unexpectedFrame, "expected method frame, got non method frame instead");
    const expected = this.publish.awaitingHeader
      ? "expected content header for class 60, got non content header frame instead"
      : "expected content body, got non content body frame instead";
    return new AmqpError(ReplyCode.unexpectedFrame, expected, "basic.publish");
  }

  private hold(type: number, bytes: Uint8Array): void {
    this.backlog.push({ type, bytes });
    this.backlogBytes += bytes.length;
    if (this.backlogBytes > BACKLOG_PAUSE_BYTES) this.host.pauseReading(this);
  }

  private suspend(): void {
    this.suspended = true;
  }

  /** The shard answered: process what arrived meanwhile, until the next suspension. */
  private resume(): void {
    this.suspended = false;
    while (!this.suspended && this.backlog.length > 0 && this.state !== "closed") {
      const frame = this.backlog.shift()!;
      this.backlogBytes -= frame.bytes.length;
      this.host.guard(this, () => this.process(frame.type, frame.bytes, 0, frame.bytes.length));
    }
    if (this.backlogBytes <= BACKLOG_PAUSE_BYTES) this.host.resumeReading(this);
  }

  /** A reply handler that runs inside the connection's error boundary, then resumes the channel. */
  private answer<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      if (this.state === "closed") return;
      this.host.guard(this, () => fn(...args));
      this.resume();
    };
  }

  // --- methods -----------------------------------------------------------------------------

  private onMethod(m: Method): void {
    switch (m.name) {
      case "basic.publish": return this.basicPublish(m);
      case "basic.ack": return this.settle(m.deliveryTag, m.multiple, Settle.ack, "basic.ack");
      case "basic.nack": return this.settle(m.deliveryTag, m.multiple, m.requeue ? Settle.requeue : Settle.drop, "basic.nack");
      case "basic.reject": return this.settle(m.deliveryTag, false, m.requeue ? Settle.requeue : Settle.drop, "basic.reject");
      case "basic.consume": return this.basicConsume(m);
      case "basic.cancel": return this.basicCancel(m);
      case "basic.get": return this.basicGet(m);
      case "basic.qos": return this.basicQos(m);
      case "basic.recover":
      case "basic.recover-async": return this.basicRecover(m.requeue, m.name === "basic.recover");
      case "channel.close": return this.onClientClose();
      case "channel.close-ok": return; // a close-ok we did not ask for: ignore, as RabbitMQ does
      case "channel.flow": return this.channelFlow(m);
      case "channel.flow-ok": return;
      case "channel.open":
        throw new AmqpError(ReplyCode.channelError, "second 'channel.open' seen", "channel.open");
      case "exchange.declare":
        topology.declareExchange(this.host, m);
        return this.replyOk(m.nowait, { name: "exchange.declare-ok" });
      case "exchange.delete":
        topology.deleteExchange(this.host, m);
        return this.replyOk(m.nowait, { name: "exchange.delete-ok" });
      case "exchange.bind":
        topology.bindExchange(this.host, m);
        return this.replyOk(m.nowait, { name: "exchange.bind-ok" });
      case "exchange.unbind":
        topology.unbindExchange(this.host, m);
        return this.replyOk(m.nowait, { name: "exchange.unbind-ok" });
      case "queue.declare": return this.queueDeclare(m);
      case "queue.bind":
        topology.bindQueue(this.host, m, this.lastQueue);
        return this.replyOk(m.nowait, { name: "queue.bind-ok" });
      case "queue.unbind":
        topology.unbindQueue(this.host, m, this.lastQueue);
        return this.replyOk(false, { name: "queue.unbind-ok" });
      case "queue.purge": return this.queuePurge(m);
      case "queue.delete": return this.queueDelete(m);
      case "tx.select": return this.txSelect();
      case "tx.commit": return this.txCommit();
      case "tx.rollback": return this.txRollback();
      case "confirm.select": return this.confirmSelect(m.nowait);
      default:
        throw new AmqpError(ReplyCode.commandInvalid, `method ${m.name} is not valid from a client on a channel`);
    }
  }

  private replyOk(nowait: boolean, ok: Method): void {
    if (!nowait) this.host.send(this.number, ok);
  }

  // --- queues ------------------------------------------------------------------------------

  private queueDeclare(m: MethodOf<"queue.declare">): void {
    const { queue, created } = topology.declareQueue(this.host, m);
    this.lastQueue = queue.name;
    if (m.nowait) return;
    if (created) {
      this.host.send(this.number, { name: "queue.declare-ok", queue: queue.name, messageCount: 0, consumerCount: 0 });
      return;
    }
    this.suspend();
    this.broker.queueCounts(queue, this.answer((messages: number, consumers: number) => {
      this.host.send(this.number, { name: "queue.declare-ok", queue: queue.name, messageCount: messages, consumerCount: consumers });
    }));
  }

  private queuePurge(m: MethodOf<"queue.purge">): void {
    const queue = topology.usableQueue(this.host, m.queue || this.lastQueueOr404("queue.purge"), "queue.purge");
    topology.checkPermission(this.host, "read", "queue", queue.name, "queue.purge");
    if (m.nowait) return this.broker.purgeQueue(queue, () => {});
    this.suspend();
    this.broker.purgeQueue(queue, this.answer((purged: number) => {
      this.host.send(this.number, { name: "queue.purge-ok", messageCount: purged });
    }));
  }

  private queueDelete(m: MethodOf<"queue.delete">): void {
    const name = m.queue || this.lastQueueOr404("queue.delete");
    const queue = topology.queueForDelete(this.host, name, m.ifUnused, m.ifEmpty);
    if (queue === undefined) {
      if (!m.nowait) this.host.send(this.number, { name: "queue.delete-ok", messageCount: 0 });
      return;
    }
    this.suspend();
    this.broker.deleteQueue(queue, m.ifEmpty, this.answer((messages: number | null) => {
      if (messages === null) {
        throw new AmqpError(ReplyCode.preconditionFailed, `queue '${queue.name}' in vhost '${queue.vhost}' not empty`, "queue.delete");
      }
      this.host.forgetOwnedQueue(queue);
      if (!m.nowait) this.host.send(this.number, { name: "queue.delete-ok", messageCount: messages });
    }));
  }

  private lastQueueOr404(method: MethodName): string {
    if (this.lastQueue === "") throw new AmqpError(ReplyCode.notFound, "no previously declared queue", method);
    return this.lastQueue;
  }

  // --- consuming ---------------------------------------------------------------------------

  private basicQos(m: MethodOf<"basic.qos">): void {
    if (m.prefetchSize !== 0) throw new AmqpError(ReplyCode.notImplemented, `prefetch_size!=0 (${m.prefetchSize})`, "basic.qos");
    if (m.global) {
      this.globalPrefetch = m.prefetchCount;
      this.broker.credits.setLimit(this.creditSlot, m.prefetchCount);
      this.broker.kick(this.creditSlot);
    } else {
      this.consumerPrefetch = m.prefetchCount;
    }
    this.host.send(this.number, { name: "basic.qos-ok" });
  }

  private basicConsume(m: MethodOf<"basic.consume">): void {
    if (m.queue === REPLY_TO_QUEUE) return this.consumeReplies(m);
    const queue = topology.usableQueue(this.host, m.queue || this.lastQueueOr404("basic.consume"), "basic.consume");
    topology.checkPermission(this.host, "read", "queue", queue.name, "basic.consume");
    const tag = m.consumerTag || generatedName("amq.ctag-");
    if (this.consumers.has(tag)) throw new AmqpError(ReplyCode.notAllowed, `attempt to reuse consumer tag '${tag}'`, "basic.consume");
    // RabbitMQ checks the consumer arguments before the queue's exclusive use.
    const priority = consumerPriority(m.arguments, queue.name, queue.vhost);
    if (queue.type === "quorum" && this.globalPrefetch !== 0) {
      throw new AmqpError(ReplyCode.notImplemented, `queue '${queue.name}' in vhost '${queue.vhost}' does not support global qos`, "basic.consume");
    }
    if (queue.exclusiveConsumer !== undefined || (m.exclusive && queue.consumers.size > 0)) {
      throw new AmqpError(ReplyCode.accessRefused, `queue '${queue.name}' in vhost '${queue.vhost}' in exclusive use`, "basic.consume");
    }
    const consumer = new ConsumerRecord(this.broker.newConsumerId(), tag, queue, this, m.noAck, m.exclusive);
    this.consumers.set(tag, consumer);
    // consume-ok is written before the shard hears of the consumer: no delivery can precede it.
    if (!m.nowait) this.host.send(this.number, { name: "basic.consume-ok", consumerTag: tag });
    this.broker.addConsumer(consumer, this.creditSlot, this.consumerPrefetch, priority);
  }

  private basicCancel(m: MethodOf<"basic.cancel">): void {
    if (this.replyTo !== null && this.replyTo.tag === m.consumerTag) {
      this.broker.replyTargets.delete(this.replyTo.name);
      this.replyTo = null;
    }
    const consumer = this.consumers.get(m.consumerTag);
    if (consumer !== undefined) {
      this.consumers.delete(m.consumerTag);
      this.broker.removeConsumer(consumer);
    }
    if (!m.nowait) this.host.send(this.number, { name: "basic.cancel-ok", consumerTag: m.consumerTag });
  }

  private consumeReplies(m: MethodOf<"basic.consume">): void {
    if (!m.noAck) throw new AmqpError(ReplyCode.preconditionFailed, "reply consumer cannot acknowledge", "basic.consume");
    if (this.replyTo !== null) throw new AmqpError(ReplyCode.preconditionFailed, "reply consumer already set", "basic.consume");
    const tag = m.consumerTag || generatedName("amq.ctag-");
    if (this.consumers.has(tag)) throw new AmqpError(ReplyCode.notAllowed, `attempt to reuse consumer tag '${tag}'`, "basic.consume");
    this.replyTo = { tag, name: replyToName(this.channelId) };
    this.broker.replyTargets.set(this.replyTo.name, this);
    if (!m.nowait) this.host.send(this.number, { name: "basic.consume-ok", consumerTag: tag });
  }

  /** A reply published to this channel's reply name: delivered at once, no-ack. */
  deliverReply(routingKey: string, props: Uint8Array, body: Uint8Array): void {
    if (this.replyTo === null || this.state !== "open") return;
    const tag = this.tags.add(0, 0, false, null);
    const out = this.host.out;
    out.basicDeliver(this.number, this.replyTo.tag, tag, false, "", routingKey);
    out.contentHeader(this.number, 60, body.length, props);
    out.bodyFrames(this.number, body, this.host.frameMax);
    this.broker.counters.delivered++;
    this.host.markDirty();
  }

  consumerGone(consumer: ConsumerRecord): void {
    if (this.consumers.get(consumer.tag) !== consumer) return;
    this.consumers.delete(consumer.tag);
    if (this.host.capabilities.consumerCancelNotify) {
      this.host.send(this.number, { name: "basic.cancel", consumerTag: consumer.tag, nowait: true });
    }
  }

  /** A delivery from a shard; the envelope is read in place (env[at, at+length) is valid during the call). */
  deliver(consumer: ConsumerRecord, shard: number, deliveryId: number, redelivered: boolean, deliveryCount: number, env: Uint8Array, at: number, length: number): void {
    if (this.state !== "open" || this.consumers.get(consumer.tag) !== consumer) {
      if (deliveryId !== 0) this.broker.settle(shard, Settle.requeue, [deliveryId]);
      return;
    }
    // Looked up per delivery, as RabbitMQ 3.12+ does: a consumer-timeout policy set later applies too.
    const timeout_ms = consumer.queue.settings.consumerTimeout_ms ?? this.broker.consumerTimeout_ms;
    const tag = this.tags.add(shard, deliveryId, !consumer.noAck, consumer.queue.counts, timeout_ms);
    this.broker.counters.delivered++;
    this.counts.delivered(false, consumer.noAck, redelivered);
    consumer.queue.counts.delivered(false, consumer.noAck, redelivered);
    const out = withDeliveryCount({ buf: env, at, length }, deliveryCount > 0 ? deliveryCount : undefined);
    this.host.out.deliverEnvelope(this.number, consumer.tag, tag, redelivered, out.buf, out.at, out.length, this.host.frameMax);
    this.host.markDirty();
  }

  private basicGet(m: MethodOf<"basic.get">): void {
    const queue = topology.usableQueue(this.host, m.queue || this.lastQueueOr404("basic.get"), "basic.get");
    topology.checkPermission(this.host, "read", "queue", queue.name, "basic.get");
    this.suspend();
    this.broker.getMessage(queue, m.noAck, this.answer((got: GotMessage | null) => {
      if (got === null) {
        this.counts.get_empty++;
        queue.counts.get_empty++;
        this.host.send(this.number, { name: "basic.get-empty" });
        return;
      }
      const tag = this.tags.add(queue.shard, got.deliveryId, false, queue.counts);
      this.broker.counters.delivered++;
      this.counts.delivered(true, m.noAck, got.redelivered);
      queue.counts.delivered(true, m.noAck, got.redelivered);
      const out = withDeliveryCount({ buf: got.env, at: got.at, length: got.length }, queue.type === "quorum" ? got.deliveryCount : undefined);
      this.host.out.getOkEnvelope(this.number, tag, got.redelivered, got.remaining, out.buf, out.at, out.length, this.host.frameMax);
      this.host.markDirty();
    }));
  }

  // --- acknowledgements ----------------------------------------------------------------------

  private settle(tag: number, multiple: boolean, action: number, method: MethodName): void {
    const settled = this.settled;
    settled.length = 0;
    this.tags.settle(tag, multiple, settled, method);
    if (action === Settle.ack) {
      this.broker.counters.acked += settled.length;
      this.counts.ack += settled.length;
      for (let i = 0; i < settled.length; i++) {
        const queue = settled[i]!.queue;
        if (queue !== null) queue.ack++;
      }
    }
    if (this.tx !== null) {
      this.tx.acks.push({ action, settled: settled.slice() });
      return;
    }
    this.sendSettlements(action, settled);
  }

  /** Sends settlements to their shards (one record per shard) and returns the channel's credit. */
  private sendSettlements(action: number, settled: readonly SettledDelivery[]): void {
    if (settled.length === 0) return;
    let counted = 0;
    const byShard = new Map<number, number[]>();
    for (const s of settled) {
      if (s.counted) counted++;
      const ids = byShard.get(s.shard);
      if (ids === undefined) byShard.set(s.shard, [s.deliveryId]);
      else ids.push(s.deliveryId);
    }
    for (const [shard, ids] of byShard) this.broker.settle(shard, action, ids);
    if (counted > 0 && this.broker.credits.giveBack(this.creditSlot, counted)) this.broker.kick(this.creditSlot);
  }

  private basicRecover(requeue: boolean, answer: boolean): void {
    if (!requeue) throw new AmqpError(ReplyCode.notImplemented, "requeue=false", "basic.recover");
    const settled: SettledDelivery[] = [];
    this.tags.settleAll(settled);
    this.sendSettlements(Settle.requeue, settled);
    if (answer) this.host.send(this.number, { name: "basic.recover-ok" });
  }

  // --- publishing ----------------------------------------------------------------------------

  private basicPublish(m: MethodOf<"basic.publish">): void {
    if (m.immediate) throw new AmqpError(ReplyCode.notImplemented, "immediate=true", "basic.publish");
    this.publishExchange = topology.checkPublishExchange(this.host, m.exchange) ?? this.defaultExchange;
    this.checkWritePermission(m.exchange);
    if (this.broker.flow.alarmed) this.broker.flow.block(this.host);
    this.publish.begin(m.exchange, m.routingKey, m.mandatory);
  }

  /** Publish permission per exchange, cached until permissions change (it is on the hot path). */
  private writable = new Map<string, boolean>();
  private writableGeneration = -1;

  private checkWritePermission(exchange: string): void {
    const users = this.broker.users;
    if (this.writableGeneration !== users.generation) {
      this.writable = new Map();
      this.writableGeneration = users.generation;
    }
    if (this.writable.get(exchange) === true) return;
    topology.checkPermission(this.host, "write", "exchange", exchange, "basic.publish");
    this.writable.set(exchange, true);
  }

  private readonly publishHeaders = (): FieldTable | undefined =>
    peekHeaders(this.publish.record.u8, this.publish.propsAt, this.publish.propsLength);

  private publishComplete(): void {
    const p = this.publish;
    const raw = p.record.u8;
    const userId = peekUserId(raw, p.propsAt, p.propsLength);
    if (userId !== undefined && userId !== this.host.user) {
      p.reset();
      throw new AmqpError(ReplyCode.preconditionFailed, `user_id property set to '${userId}' but authenticated user was '${this.host.user}'`, "basic.publish");
    }
    try {
      checkPublishProperties(raw, p.propsAt, p.propsLength);
    } catch (error) {
      p.reset();
      throw error;
    }
    if (asksForDirectReply(raw, p.propsAt, p.propsLength)) {
      if (this.replyTo === null) {
        p.reset();
        throw new AmqpError(ReplyCode.preconditionFailed, "fast reply consumer does not exist", "basic.publish");
      }
      p.replaceProperties(withReplyTo(raw, p.propsAt, p.propsLength, this.replyTo.name));
    }
    if (p.exchange === "" && p.routingKey.startsWith(REPLY_TO_PREFIX)) return this.publishReply();
    let selected: SenderSelected | null = null;
    if (hasHeaders(p.record.u8, p.propsAt, p.propsLength)) {
      try {
        selected = senderSelected(this.publishHeaders());
      } catch (error) {
        p.reset();
        throw error;
      }
      if (selected?.bcc === true) p.replaceProperties(withoutBcc(p.record.u8, p.propsAt, p.propsLength));
    }
    // Read after the reply-to and BCC rewrites, which may have replaced the record.
    const r = p.record;
    const persistent = peekDeliveryMode(r.u8, p.propsAt, p.propsLength) === 2;
    const names = this.queueNames;
    names.length = 0;
    this.routeKey(p.routingKey, names);
    if (selected !== null) {
      const extra: string[] = [];
      for (const key of selected.keys) {
        extra.length = 0;
        this.routeKey(key, extra);
        for (const name of extra) if (!names.includes(name)) names.push(name);
      }
    }
    const targets = this.targets;
    for (const ids of targets.values()) ids.length = 0;
    let routed = 0;
    for (const name of names) {
      const queue = this.host.vhost.queues.get(name);
      if (queue === undefined) continue;
      if (queue.inFlow) this.broker.flow.queueInFlow(this.host, queue);
      let ids = targets.get(queue.shard);
      if (ids === undefined) targets.set(queue.shard, (ids = []));
      ids.push(queue.id);
      queue.counts.publish++;
      routed++;
    }
    this.broker.counters.published++;
    this.counts.publish++;
    this.publishExchange.publish_in++;
    this.publishExchange.publish_out += routed;
    if (routed === 0) this.unroutable();
    const seq = this.confirms === null ? 0 : this.confirms.take();
    const expires = p.propsLength >= 2 && (r.u8[p.propsAt]! & (PropertyFlag.expiration >> 8)) !== 0;
    const flags = (persistent ? PublishFlag.persistent : 0) | (seq !== 0 ? PublishFlag.confirm : 0) | (expires ? PublishFlag.expires : 0);
    stampPublishRecord(r, flags, this.channelId, seq);
    if (this.tx !== null) {
      if (routed > 0) {
        const whole = p.materialize();
        this.tx.publishes.push({ record: whole.u8.slice(0, whole.length), targets: copyTargets(targets) });
      }
    } else {
      this.sendPublish(r.u8, r.length, targets, seq, p.bodyView);
    }
    if (seq !== 0) this.confirms!.emit(this);
    p.reset();
  }

  /** Appends the queues a routing key reaches from the publish's exchange to `out` (empty on entry). */
  private routeKey(routingKey: string, out: string[]): void {
    const vhost = this.host.vhost;
    if (this.publish.exchange === "") {
      if (vhost.queues.has(routingKey)) out.push(routingKey);
    } else {
      vhost.routes.route(this.publish.exchange, routingKey, this.publishHeaders, out);
    }
  }

  /** A reply to a direct reply-to requester: straight to its channel, or dropped if it is gone. */
  private publishReply(): void {
    const p = this.publish;
    const r = p.record;
    const target = this.broker.replyTargets.get(p.routingKey);
    this.broker.counters.published++;
    this.counts.publish++;
    if (target !== undefined) {
      target.deliverReply(p.routingKey, r.u8.slice(p.propsAt, p.propsAt + p.propsLength), p.bodyBytes.slice());
    } else {
      this.unroutable();
    }
    if (this.confirms !== null) {
      this.confirms.take();
      this.confirms.emit(this);
    }
    p.reset();
  }

  /** `body`: the body when the record ends before it (PublishAssembler.bodyView). */
  private sendPublish(record: Uint8Array, length: number, targets: Map<number, number[]>, seq: number, body?: Uint8Array): void {
    for (const [shard, ids] of targets) {
      if (ids.length === 0) continue;
      this.broker.publish(this.host, shard, record, length, ids, body);
      if (seq !== 0) this.confirms!.sentTo(seq, shard);
    }
  }

  /** A publish that reached no queue: returned if mandatory, dropped otherwise. */
  private unroutable(): void {
    const p = this.publish;
    if (!p.mandatory) {
      this.counts.drop_unroutable++;
      return;
    }
    this.broker.counters.returned++;
    this.counts.return_unroutable++;
    const r = p.record;
    const out = this.host.out;
    out.methodFrame(this.number, { name: "basic.return", replyCode: ReplyCode.noRoute, replyText: "NO_ROUTE", exchange: p.exchange, routingKey: p.routingKey });
    out.contentHeader(this.number, 60, p.bodyLength, r.u8.subarray(p.propsAt, p.propsAt + p.propsLength));
    out.bodyFrames(this.number, p.bodyBytes, this.host.frameMax);
    this.host.markDirty();
  }

  // ConfirmSink
  ack(seq: number, multiple: boolean, count: number): void {
    this.broker.counters.confirmed += count;
    this.counts.confirm += count;
    this.host.out.basicAck(this.number, seq, multiple);
    this.host.markDirty();
  }

  nack(seq: number): void {
    this.host.out.basicNack(this.number, seq, false, false);
    this.host.markDirty();
  }

  shardConfirmed(shard: number, seq: number): void {
    this.confirms?.shardConfirmed(shard, seq, this);
  }

  shardNacked(seq: number): void {
    this.confirms?.markNacked(seq);
  }

  private confirmSelect(nowait: boolean): void {
    if (this.tx !== null) throw new AmqpError(ReplyCode.preconditionFailed, "cannot switch from tx to confirm mode", "confirm.select");
    this.confirms ??= new ConfirmTracker();
    if (!nowait) this.host.send(this.number, { name: "confirm.select-ok" });
  }

  // --- transactions --------------------------------------------------------------------------

  private txSelect(): void {
    if (this.confirms !== null) throw new AmqpError(ReplyCode.preconditionFailed, "cannot switch from confirm to tx mode", "tx.select");
    this.tx ??= { publishes: [], acks: [] };
    this.host.send(this.number, { name: "tx.select-ok" });
  }

  private txCommit(): void {
    const tx = this.tx;
    if (tx === null) throw new AmqpError(ReplyCode.preconditionFailed, "channel is not transactional", "tx.commit");
    this.tx = { publishes: [], acks: [] };
    for (const p of tx.publishes) this.sendPublish(p.record, p.record.length, p.targets, 0);
    for (const a of tx.acks) this.sendSettlements(a.action, a.settled);
    this.suspend();
    this.broker.syncAll(this.answer(() => this.host.send(this.number, { name: "tx.commit-ok" })));
  }

  private txRollback(): void {
    if (this.tx === null) throw new AmqpError(ReplyCode.preconditionFailed, "channel is not transactional", "tx.rollback");
    // The rolled-back acks/nacks are not applied: as in RabbitMQ, their deliveries become
    // unacknowledged again under the same tags (the client may ack them again; a channel close
    // requeues them). They never gave back prefetch credit, so there is none to take.
    for (const a of this.tx.acks) this.tags.restore(a.settled);
    this.tx = { publishes: [], acks: [] };
    this.host.send(this.number, { name: "tx.rollback-ok" });
  }

  private channelFlow(m: MethodOf<"channel.flow">): void {
    if (!m.active) throw new AmqpError(ReplyCode.notImplemented, "active=false", "channel.flow");
    this.host.send(this.number, { name: "channel.flow-ok", active: true });
  }

  /**
   * RabbitMQ 3.12's consumer timeout: a delivery left unacknowledged past it closes the channel
   * (its unacked messages are requeued). Checked once a second, on the oldest outstanding delivery.
   */
  checkConsumerTimeout(now_ms: number): void {
    if (this.state !== "open") return;
    const oldest = this.tags.oldestDeadline();
    if (oldest === null || oldest.deadline_ms > now_ms) return;
    throw new AmqpError(ReplyCode.preconditionFailed,
      `delivery acknowledgement on channel ${this.number} timed out. Timeout value used: ${oldest.timeout_ms} ms. This timeout value can be configured, see consumers doc guide to learn more`);
  }

  /** The socket's output backed up (or drained): stop (or resume) deliveries to this channel. */
  setOutputBlocked(blocked: boolean): void {
    this.broker.credits.setPaused(this.creditSlot, blocked);
    if (!blocked) this.broker.kick(this.creditSlot);
  }

  // --- closing -------------------------------------------------------------------------------

  private onClientClose(): void {
    this.release();
    this.host.send(this.number, { name: "channel.close-ok" });
    this.host.channelClosed(this);
  }

  /** Server-side close after a channel error: send channel.close and wait for close-ok. */
  closeWithError(error: AmqpError): void {
    this.release();
    this.state = "closing";
    this.host.send(this.number, {
      name: "channel.close",
      replyCode: error.code,
      replyText: error.replyText,
      classId: error.classId,
      methodId: error.methodId,
    });
  }

  /**
   * Gives everything back: consumers cancelled, unacknowledged deliveries requeued, pending
   * publishes and transactions dropped. The credit slot is reused only after every shard has
   * seen the cancels, so no shard can still take credit from it for this channel.
   */
  release(): void {
    // closeWithError releases and then waits in "closing" for close-ok, which releases again:
    // a second release would free the credit slot twice and hand it to two channels.
    if (this.released) return;
    this.released = true;
    this.host.vhost.closedChannels.add(this.counts);
    this.state = "closed";
    this.backlog.length = 0;
    this.backlogBytes = 0;
    this.host.resumeReading(this);
    this.suspended = false;
    for (const consumer of this.consumers.values()) this.broker.removeConsumer(consumer);
    this.consumers.clear();
    const settled: SettledDelivery[] = [];
    this.tags.settleAll(settled);
    // Acks/nacks of an uncommitted transaction never took effect: those deliveries are still
    // unacknowledged (their tags were only spent), so they are requeued like the rest.
    if (this.tx !== null) for (const a of this.tx.acks) settled.push(...a.settled);
    this.sendSettlements(Settle.requeue, settled);
    this.tx = null;
    this.confirms = null;
    if (this.replyTo !== null) this.broker.replyTargets.delete(this.replyTo.name);
    this.replyTo = null;
    this.broker.unregisterChannel(this.channelId);
    const slot = this.creditSlot;
    this.broker.syncAll(() => this.broker.credits.release(slot));
  }
}

function consumerPriority(args: FieldTable, queue: string, vhost: string): number {
  const value = args["x-priority"];
  if (value === undefined) return 0;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "bigint") return Number(value);
  // rabbit_amqqueue:check_consume_arguments' text, e.g. `... for queue 'q' in vhost '/': "expected integer, got longstr"`.
  throw new AmqpError(ReplyCode.preconditionFailed,
    `invalid arg 'x-priority' for ${resourceName("queue", queue, vhost)}: "expected integer, got ${fieldTypeName(value) ?? "long"}"`, "basic.consume");
}

function copyTargets(targets: Map<number, number[]>): Map<number, number[]> {
  const copy = new Map<number, number[]>();
  for (const [shard, ids] of targets) if (ids.length > 0) copy.set(shard, ids.slice());
  return copy;
}
