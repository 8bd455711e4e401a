// The broker as the acceptor thread holds it: vhosts and their definitions, the registries that
// map ids in shard records back to channels and consumers, and the queue lifecycle operations
// that need a shard's answer. Connections and channels call in here; domain errors are thrown as
// AmqpError and turned into channel/connection closes at the channel boundary.
import { CreditTable } from "../link/credit_slots.ts";
import { IdleCollector, MemoryPressure } from "../link/memory_pressure.ts";
import { beginPublishRecord, endPublishEnvelope, stampPublishRecord } from "../link/publish_record.ts";
import { ConsumeFlag, DEAD_LETTER_REASONS, PublishFlag, QueueFlag, Settle } from "../link/records.ts";
import { encodeProperties } from "../protocol/properties.ts";
import { deadLetter, isCycle, type DeathEvent } from "./dead_letter.ts";
import { DEAD_LETTER_CHANNEL, DeadLetterHandoffs } from "./dead_letter_handoffs.ts";
import { envelopePropsLengthAt, readEnvelope, readU32 } from "../link/envelope.ts";
import { RecordBuilder } from "../link/record_codec.ts";
import type { GotMessage, ShardEvents } from "../link/shard_link.ts";
import { ShardPool, type ShardPoolOptions } from "../link/shard_pool.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import type { FieldTable } from "../protocol/table.ts";
import { DefinitionsStore } from "../journal/definitions_store.ts";
import { log } from "../log.ts";
import type { ConsumerRecord } from "./consumer_record.ts";
import { applyDefinitions, tableToJson, VHOST_LIMITS_COMPONENT, type Definitions, type DefinitionsTarget } from "./definitions.ts";
import { resourceName } from "./names.ts";
import { policyJson, queueSettings, type QueueSettings } from "./policies.ts";
import type { Actor, Site } from "./topology/actor.ts";
import { bind } from "./topology/bindings.ts";
import { declareExchange } from "./topology/exchanges.ts";
import { setPolicy } from "./topology/policies.ts";
import { declareQueue } from "./topology/queues.ts";
import { PublishFlow, type Publisher } from "./publish_flow.ts";
import { QueueExpiry } from "./queue_expiry.ts";
import { QueueRecord, type QueueOwner } from "./queue_record.ts";
import { ResourceAlarms, type AlarmSettings } from "./resource_alarms.ts";
import { sortedLimits, type LimitedConnection } from "./resource_limits.ts";
import { UserStore } from "./users.ts";
import { Vhost } from "./vhost.ts";

/** A queue's counts as its shard reports them. */
export interface QueueStats {
  ready: number;
  unacked: number;
  readyBytes: number;
}

/** Totals since start-up, for the management API and /metrics. */
export interface BrokerCounters {
  published: number;
  delivered: number;
  acked: number;
  confirmed: number;
  returned: number;
}

export interface BrokerOptions extends ShardPoolOptions {
  defaultUser: string;
  defaultPass: string;
}

/** What the broker needs from a channel to route shard records to it. */
export interface ChannelEndpoint {
  readonly channelId: number;
  deliver(consumer: ConsumerRecord, shard: number, deliveryId: number, redelivered: boolean, deliveryCount: number, env: Uint8Array, at: number, length: number): void;
  shardConfirmed(shard: number, seq: number): void;
  shardNacked(seq: number): void;
  /** The queue behind the consumer is gone: drop it (and tell the client, basic.cancel). */
  consumerGone(consumer: ConsumerRecord): void;
}

/** A channel consuming from amq.rabbitmq.reply-to. */
export interface ReplyTarget {
  deliverReply(routingKey: string, props: Uint8Array, body: Uint8Array): void;
}

/** Something whose socket output must be flushed at the end of the current batch. */
export interface Flushable {
  flush(): void;
}

/** Definitions are applied outside any AMQP method. */
const NO_SITE: Site = null;

export class Broker implements ShardEvents {
  readonly vhosts = new Map<string, Vhost>();
  readonly users = new UserStore();
  readonly counters: BrokerCounters = { published: 0, delivered: 0, acked: 0, confirmed: 0, returned: 0 };
  private store: DefinitionsStore | null = null;
  /** Durable definitions changed in this batch: saved before the batch's replies are flushed. */
  private definitionsDirty = false;
  /** True while a definitions save is due: until it is done, no reply may leave early. */
  get definitionsPending(): boolean {
    return this.definitionsDirty;
  }
  readonly credits = new CreditTable();
  private readonly pressure = new MemoryPressure();
  private readonly idle = new IdleCollector();
  private pool!: ShardPool;
  private readonly channels = new Map<number, ChannelEndpoint>();
  private readonly consumers = new Map<number, ConsumerRecord>();
  /** Every live queue by id, for the shards' flow records. */
  private readonly queuesById = new Map<number, QueueRecord>();
  readonly flow = new PublishFlow();
  /** --consumer-timeout: how long a delivery may stay unacknowledged (0 = forever). */
  consumerTimeout_ms = 0;
  /** x-expires: unused queues are deleted with their messages. */
  readonly expiry = new QueueExpiry((queue) => {
    log.info(`queue '${queue.name}' in vhost '${queue.vhost}' expired (x-expires): deleted`);
    this.deleteQueue(queue, false, () => {});
  });
  /** Scratch for the publish records of dead-lettered messages. */
  private readonly deadLetterRecord = new RecordBuilder();
  private readonly handoffs = new DeadLetterHandoffs();
  /** The memory and disk alarms, once started (null in brokers built by unit tests). */
  alarms: ResourceAlarms | null = null;
  /** Every client connection (the AMQP server's set), counted by the connection and channel limits. */
  connections: ReadonlySet<LimitedConnection> = new Set();
  /** Direct reply-to names → the channel that consumes its replies. */
  readonly replyTargets = new Map<string, ReplyTarget>();
  private readonly dirty = new Set<Flushable>();
  private flushScheduled = false;
  private nextQueueId = 1;
  private nextConsumerId = 1;
  private nextChannelId = 1;

  /**
   * Starts the shards (which recover their journals), then restores the durable definitions,
   * declaring every durable queue so its shard adopts the recovered messages. A fresh data dir
   * gets vhost "/" and the default user with full rights on it.
   */
  async start(options: BrokerOptions): Promise<void> {
    this.pool = await ShardPool.start(options, this.credits, this.pressure, this);
    this.store = options.dataDir === null ? null : new DefinitionsStore(`${options.dataDir}/definitions.json`);
    const saved = this.store?.load() as Definitions | undefined;
    if (saved !== undefined) {
      applyDefinitions(this.definitionsTarget(true), saved);
      log.info(`restored definitions: ${this.vhosts.size} vhosts, ${saved.queues?.length ?? 0} durable queues, ${saved.exchanges?.length ?? 0} durable exchanges`);
    } else {
      this.addVhost("/");
      this.users.add(options.defaultUser, { password: options.defaultPass }, ["administrator"]);
      this.users.setPermission(options.defaultUser, "/", { configure: ".*", write: ".*", read: ".*" });
      this.definitionsChanged(null, true);
    }
    // Every durable queue is declared (and has adopted its recovered messages) before this.
    for (const link of this.pool.links) link.recoveryDone();
    this.scheduleFlush();
  }

  // --- definitions -------------------------------------------------------------------------

  /** Something durable changed (or `durable` is false and nothing needs saving). */
  definitionsChanged(_vhost: Vhost | null, durable: boolean): void {
    if (!durable || this.store === null) return;
    this.definitionsDirty = true;
    this.scheduleFlush();
  }

  /** The durable definitions, in RabbitMQ's export shape. */
  exportDefinitions(): Definitions {
    const defs: Required<Pick<Definitions, "users" | "vhosts" | "permissions" | "parameters" | "policies" | "exchanges" | "queues" | "bindings">> & Definitions = {
      rabbit_version: "3.10.8",
      product_name: "Warren",
      product_version: "0.1.0",
      users: [],
      vhosts: [],
      permissions: [],
      // Operator policies are runtime parameters of the component "operator_policy", as RabbitMQ exports them.
      parameters: [],
      policies: [],
      exchanges: [],
      queues: [],
      bindings: [],
    };
    for (const u of this.users.list()) {
      defs.users.push({ name: u.name, password_hash: u.passwordHash, hashing_algorithm: "rabbit_password_hashing_sha256", tags: u.tags, limits: u.limits });
    }
    for (const p of this.users.allPermissions()) defs.permissions.push(p);
    for (const vhost of this.vhosts.values()) {
      defs.vhosts.push({ name: vhost.name });
      for (const p of vhost.policies.list("operator_policy")) {
        defs.parameters.push({ value: { pattern: p.pattern, definition: { ...p.definition }, priority: p.priority, "apply-to": p.applyTo }, vhost: vhost.name, component: "operator_policy", name: p.name });
      }
      for (const p of vhost.policies.list("policy")) defs.policies.push(policyJson(p));
      if (Object.keys(vhost.limits).length > 0) defs.parameters.push({ vhost: vhost.name, component: VHOST_LIMITS_COMPONENT, name: "limits", value: vhost.limits });
      for (const x of vhost.routes.exchanges()) {
        if (!x.durable || x.name === "" || x.name.startsWith("amq.")) continue;
        defs.exchanges.push({ name: x.name, vhost: vhost.name, type: x.type, durable: true, auto_delete: x.autoDelete, internal: x.internal, arguments: tableToJson(x.arguments) });
      }
      for (const q of vhost.queues.values()) {
        if (!q.durable || q.owner !== null) continue;
        defs.queues.push({ name: q.name, vhost: vhost.name, durable: true, auto_delete: q.autoDelete, arguments: tableToJson(q.args) });
      }
      for (const b of vhost.routes.bindings()) {
        if (!this.isDurableEnd(vhost, b.source, "exchange") || !this.isDurableEnd(vhost, b.destination, b.destinationKind)) continue;
        defs.bindings.push({ source: b.source, vhost: vhost.name, destination: b.destination, destination_type: b.destinationKind, routing_key: b.routingKey, arguments: tableToJson(b.arguments) });
      }
    }
    return defs;
  }

  importDefinitions(defs: Definitions): void {
    applyDefinitions(this.definitionsTarget(false), defs);
    this.definitionsChanged(null, true);
  }

  private isDurableEnd(vhost: Vhost, name: string, kind: "queue" | "exchange"): boolean {
    if (kind === "exchange") return vhost.routes.exchange(name)?.durable ?? false;
    const q = vhost.queues.get(name);
    return q !== undefined && q.durable && q.owner === null;
  }

  private actor(vhost: Vhost): Actor {
    return { broker: this, vhost, user: null, connection: null };
  }

  private definitionsTarget(restoring: boolean): DefinitionsTarget {
    return {
      addVhost: (name) => void this.addVhost(name),
      addUserWithHash: (name, passwordHash, tags) => void this.users.add(name, { passwordHash }, tags),
      setPermission: (user, vhost, configure, write, read) => this.users.setPermission(user, vhost, { configure, write, read }),
      setPolicy: (kind, vhost, name, body) => {
        try {
          setPolicy(this, this.addVhost(vhost), kind, name, body);
        } catch (error) {
          // Recovery keeps going without a policy a later Warren refuses; an import fails on it.
          if (!restoring) throw error;
          log.error(`${kind} '${name}' in vhost '${vhost}' not restored: ${(error as Error).message}`);
        }
      },
      setUserLimits: (user, limits) => {
        const u = this.users.get(user);
        if (u !== undefined) u.limits = sortedLimits(limits);
      },
      setVhostLimits: (vhost, limits) => void (this.addVhost(vhost).limits = sortedLimits(limits)),
      // Through the topology domain as the broker itself (no permission checks). Objects that
      // exist are kept as they are, as RabbitMQ's import does; a new one passes every check.
      declareExchange: (vhost, name, type, durable, autoDelete, internal, args) => {
        const v = this.addVhost(vhost);
        if (v.routes.exchange(name) === undefined) declareExchange(this.actor(v), { name, type, durable, autoDelete, internal, arguments: args, passive: false }, NO_SITE);
      },
      declareQueue: (vhost, name, durable, autoDelete, args) => {
        const v = this.addVhost(vhost);
        if (v.queues.has(name)) return;
        // Recovery restores what was accepted when it was declared, even an argument a later
        // Warren refuses: losing a durable queue and its messages would be worse.
        if (restoring) this.createQueue(v, name, durable, autoDelete, null, args);
        else declareQueue(this.actor(v), { name, durable, autoDelete, exclusive: false, arguments: args, passive: false }, NO_SITE);
      },
      bind: (vhost, source, destination, kind, routingKey, args) => {
        const v = this.addVhost(vhost);
        // A binding whose end is not in the import is skipped: there is nothing to bind.
        if (kind === "queue" ? !v.queues.has(destination) : v.routes.exchange(destination) === undefined) return;
        if (v.routes.exchange(source) === undefined) return;
        bind(this.actor(v), { source, destination, destinationKind: kind, routingKey, arguments: args }, NO_SITE);
      },
    };
  }

  // --- authentication ----------------------------------------------------------------------

  /** The user's name when the password is right; guest only from loopback, as RabbitMQ. */
  authenticate(user: string, password: string, peer: string): string | null {
    if (!this.users.authenticate(user, password)) return null;
    if (user === "guest" && !isLoopback(peer)) return null;
    return user;
  }

  /** EXTERNAL: the certificate's user must exist; guest still only from loopback. */
  authenticateExternal(user: string, peer: string): string | null {
    if (this.users.get(user) === undefined) return null;
    if (user === "guest" && !isLoopback(peer)) return null;
    return user;
  }

  canAccessVhost(user: string, vhost: string): boolean {
    return this.users.permission(user, vhost) !== undefined;
  }

  startAlarms(settings: AlarmSettings, dataDir: string): void {
    this.alarms = new ResourceAlarms(settings, dataDir, (reason, memory) => {
      this.pressure.set(memory);
      this.flow.setAlarm(reason);
    });
    this.alarms.start();
  }

  stop(): void {
    this.alarms?.stop();
    this.pool.stop();
  }

  get shards(): ShardPool {
    return this.pool;
  }

  vhost(name: string): Vhost | undefined {
    return this.vhosts.get(name);
  }

  addVhost(name: string): Vhost {
    let vhost = this.vhosts.get(name);
    if (vhost === undefined) this.vhosts.set(name, (vhost = new Vhost(name)));
    return vhost;
  }

  // --- registries --------------------------------------------------------------------------

  newChannelId(): number {
    return this.nextChannelId++;
  }

  registerChannel(channel: ChannelEndpoint): void {
    this.channels.set(channel.channelId, channel);
  }

  unregisterChannel(channelId: number): void {
    this.channels.delete(channelId);
  }

  newConsumerId(): number {
    return this.nextConsumerId++;
  }

  // --- flushing: one socket write and one ring publish per connection and shard per batch ----

  markDirty(target: Flushable): void {
    this.dirty.add(target);
    this.scheduleFlush();
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushNow);
  }

  private readonly flushNow = (): void => {
    this.flushScheduled = false;
    if (this.definitionsDirty && this.store !== null) {
      // Before any reply of this batch leaves: a declare-ok means the definition is on disk.
      this.definitionsDirty = false;
      this.store.save(this.exportDefinitions());
    }
    for (const target of this.dirty) target.flush();
    this.dirty.clear();
    this.pool.flush();
    this.flow.check();
    this.idle.afterBatch(performance.now());
  };

  // --- shard events ------------------------------------------------------------------------

  deliver(shard: number, consumerId: number, deliveryId: number, redelivered: boolean, deliveryCount: number, env: Uint8Array, at: number, length: number): void {
    const consumer = this.consumers.get(consumerId);
    const channel = consumer === undefined ? undefined : this.channels.get(consumer.channel.channelId);
    if (consumer === undefined || channel === undefined) {
      // Cancelled or closed while the delivery was in flight: give the message back.
      if (deliveryId !== 0) this.settle(shard, Settle.requeue, [deliveryId]);
      return;
    }
    channel.deliver(consumer, shard, deliveryId, redelivered, deliveryCount, env, at, length);
  }

  confirm(shard: number, channelId: number, seq: number): void {
    if (channelId === DEAD_LETTER_CHANNEL) this.handoffs.settled(shard, seq, this.deadLettered);
    else this.channels.get(channelId)?.shardConfirmed(shard, seq);
  }

  nack(_shard: number, channelId: number, seq: number): void {
    this.channels.get(channelId)?.shardNacked(seq);
  }

  /**
   * A message a queue let go: routed to the queue's dead-letter exchange with its x-death header,
   * as a new unconfirmed publish (see ToAcceptor.deadLetter). A missing exchange, or a route back
   * into a cycle with no rejection in it, drops the message, as RabbitMQ does.
   */
  deadLetter(shard: number, queueId: number, reason: number, handoffId: number, env: Uint8Array, at: number, length: number): void {
    const queue = this.queuesById.get(queueId);
    const dlx = queue?.limits.deadLetterExchange;
    const vhost = queue === undefined ? undefined : this.vhosts.get(queue.vhost);
    const targets = queue === undefined || dlx === undefined || vhost === undefined ? null : this.deadLetterTargets(queue, vhost, dlx, reason, env, at, length);
    if (targets === null) {
      if (handoffId !== 0) this.deadLettered(shard, handoffId);
      return;
    }
    const { record, byShard } = targets;
    const seq = handoffId === 0 ? 0 : this.handoffs.begin(shard, handoffId, byShard.keys(), this.deadLettered);
    stampPublishRecord(record, (targets.persistent ? PublishFlag.persistent : 0) | (handoffId === 0 ? 0 : PublishFlag.confirm), DEAD_LETTER_CHANNEL, seq);
    for (const [target, ids] of byShard) this.pool.links[target]!.publish(record.u8, record.length, ids);
    this.scheduleFlush();
  }

  /** The source shard may forget a dead-lettered message: its copies are where they go. */
  private readonly deadLettered = (sourceShard: number, handoffId: number): void => {
    this.pool.links[sourceShard]!.deadLettered(handoffId);
    this.scheduleFlush();
  };

  /**
   * The dead-lettered copy of the envelope (x-death added) and the target queues per shard, or null
   * when it goes nowhere: a missing exchange, no route, or only cycles with no rejection in them.
   */
  private deadLetterTargets(queue: QueueRecord, vhost: Vhost, dlx: string, reason: number, env: Uint8Array, at: number, length: number): { record: RecordBuilder; byShard: Map<number, number[]>; persistent: boolean } | null {
    if (dlx !== "" && vhost.routes.exchange(dlx) === undefined) return null;
    const { exchange, routingKey, props, body } = readEnvelope(env, at, length);
    const dead = deadLetter(props, {
      queue: queue.name,
      reason: DEAD_LETTER_REASONS[reason] as DeathEvent["reason"],
      exchange,
      routingKey,
      now_s: Math.floor(Date.now() / 1000),
    }, queue.limits.deadLetterRoutingKey);
    const headers = dead.props.headers;
    const names = new Set<string>();
    const routed: string[] = [];
    for (const key of dead.routingKeys) {
      if (dlx === "") {
        if (vhost.queues.has(key)) names.add(key);
        continue;
      }
      routed.length = 0;
      vhost.routes.route(dlx, key, () => headers, routed);
      for (const name of routed) names.add(name);
    }
    const byShard = new Map<number, number[]>();
    for (const name of names) {
      const target = vhost.queues.get(name);
      if (target === undefined || isCycle(headers, name)) continue;
      const ids = byShard.get(target.shard);
      if (ids === undefined) byShard.set(target.shard, [target.id]);
      else ids.push(target.id);
    }
    if (byShard.size === 0) return null;
    const deadProps = encodeProperties(dead.props);
    const r = this.deadLetterRecord;
    beginPublishRecord(r, dlx, dead.routingKeys[0] ?? routingKey);
    r.u32(deadProps.length).bytes(deadProps, 0, deadProps.length).bytes(body, 0, body.length);
    endPublishEnvelope(r);
    return { record: r, byShard, persistent: dead.props.deliveryMode === 2 };
  }

  queueFlow(_shard: number, queueId: number, on: boolean): void {
    const queue = this.queuesById.get(queueId);
    if (queue === undefined) return;
    if (on) queue.inFlow = true;
    else this.flow.queueFlowOff(queue);
  }

  batchEnd(): void {
    this.flushNow();
  }

  // --- records to shards -------------------------------------------------------------------

  settle(shard: number, action: number, deliveryIds: readonly number[]): void {
    this.pool.links[shard]!.settle(action, deliveryIds);
    this.scheduleFlush();
  }

  kick(creditSlot: number): void {
    for (const link of this.pool.links) link.kick(creditSlot);
    this.scheduleFlush();
  }

  /** Every queue's counts, keyed by queue id: one request per shard. */
  queueStats(): Promise<Map<number, QueueStats>> {
    return new Promise((resolve) => {
      const all = new Map<number, QueueStats>();
      let waiting = this.pool.links.length;
      for (const link of this.pool.links) {
        link.stats((queues) => {
          for (const q of queues) all.set(q.queueId, { ready: q.ready, unacked: q.unacked, readyBytes: q.readyBytes });
          if (--waiting === 0) resolve(all);
        });
      }
      this.scheduleFlush();
    });
  }

  /**
   * Shutdown: resolves once every shard's journal holds everything sent to it so far and has
   * written its index snapshot (so the next start-up need not scan the journals).
   */
  flushJournals(): Promise<void> {
    return new Promise((resolve) => {
      let waiting = this.pool.links.length;
      for (const link of this.pool.links) {
        link.checkpoint(() => {
          if (--waiting === 0) resolve();
        });
      }
      this.scheduleFlush();
    });
  }

  /** Calls `done` once every shard has applied everything sent to it before (and synced it). */
  syncAll(done: () => void): void {
    let waiting = this.pool.links.length;
    for (const link of this.pool.links) {
      link.sync(() => {
        if (--waiting === 0) done();
      });
    }
    this.scheduleFlush();
  }

  // --- queues --------------------------------------------------------------------------------

  /** Creates a queue (the caller checked names and equivalence). */
  createQueue(vhost: Vhost, name: string, durable: boolean, autoDelete: boolean, owner: QueueOwner | null, args: FieldTable): QueueRecord {
    const settings = queueSettings(vhost.policies, name, args);
    const queue = new QueueRecord(this.nextQueueId++, vhost.name, name, this.pool.shardOf(vhost.name, name), durable, autoDelete, owner, args, settings);
    vhost.queues.set(name, queue);
    this.queuesById.set(queue.id, queue);
    this.expiry.used(queue);
    const flags = (durable ? QueueFlag.durable : 0) | (autoDelete ? QueueFlag.autoDelete : 0) | (owner !== null ? QueueFlag.exclusive : 0) | (queue.type === "quorum" ? QueueFlag.quorum : 0);
    this.pool.links[queue.shard]!.declare(queue.id, flags, queue.key, settings.limits);
    this.scheduleFlush();
    return queue;
  }

  /**
   * A policy change gave the queue other settings: its shard gets the new limits, and the expiry
   * clock restarts with the new expiry (RabbitMQ's init_exp on a policy change).
   */
  updateQueueSettings(queue: QueueRecord, settings: QueueSettings): void {
    const limitsChanged = JSON.stringify(settings.limits) !== JSON.stringify(queue.settings.limits);
    queue.settings = settings;
    if (limitsChanged) this.pool.links[queue.shard]!.setLimits(queue.id, settings.limits);
    this.expiry.used(queue);
    this.scheduleFlush();
  }

  /** Message and consumer counts, as queue.declare-ok reports them. */
  queueCounts(queue: QueueRecord, done: (messages: number, consumers: number) => void): void {
    this.pool.links[queue.shard]!.declare(queue.id, 0, queue.key, {}, (messages) => done(messages, queue.consumers.size));
    this.scheduleFlush();
  }

  purgeQueue(queue: QueueRecord, done: (purged: number) => void): void {
    this.pool.links[queue.shard]!.purge(queue.id, done);
    this.scheduleFlush();
  }

  /**
   * Deletes a queue: its bindings, its consumers (each told basic.cancel) and its messages.
   * With ifEmpty the shard decides atomically; `done` gets the message count, or null when the
   * queue was not empty (and so not deleted).
   */
  deleteQueue(queue: QueueRecord, ifEmpty: boolean, done: (messages: number | null) => void): void {
    const vhost = this.vhosts.get(queue.vhost)!;
    if (!ifEmpty) this.forgetQueue(vhost, queue);
    this.pool.links[queue.shard]!.delete(queue.id, ifEmpty, (deleted, messages) => {
      if (deleted && ifEmpty) this.forgetQueue(vhost, queue);
      done(deleted ? messages : null);
    });
    this.scheduleFlush();
  }

  private forgetQueue(vhost: Vhost, queue: QueueRecord): void {
    if (queue.deleted) return;
    queue.deleted = true;
    this.definitionsChanged(vhost, queue.durable);
    vhost.queues.delete(queue.name);
    this.queuesById.delete(queue.id);
    this.expiry.stop(queue);
    this.flow.queueFlowOff(queue);
    vhost.routes.removeQueue(queue.name);
    for (const consumer of [...queue.consumers]) {
      this.consumers.delete(consumer.id);
      queue.consumers.delete(consumer);
      this.channels.get(consumer.channel.channelId)?.consumerGone(consumer);
    }
  }

  // --- administration (management API, rabbitmqctl verbs) ------------------------------------

  /**
   * Deletes a vhost: its queues with their messages, its exchanges and bindings (they live in the
   * Vhost object), and every permission on it. The caller closes the vhost's connections first.
   * Resolves once every queue's shard has dropped the queue; false when there was no such vhost.
   */
  async deleteVhost(name: string): Promise<boolean> {
    const vhost = this.vhosts.get(name);
    if (vhost === undefined) return false;
    // Queues first: deleteQueue looks the vhost up.
    const gone = [...vhost.queues.values()].map((queue) => new Promise<void>((resolve) => this.deleteQueue(queue, false, () => resolve())));
    this.vhosts.delete(name);
    this.users.forgetVhost(name);
    this.definitionsChanged(vhost, true);
    await Promise.all(gone);
    return true;
  }

  /** Publishes a transient message with empty properties straight to one queue, unconfirmed. */
  publishToQueue(queue: QueueRecord, body: Uint8Array): void {
    const r = new RecordBuilder(64 + body.length);
    beginPublishRecord(r, "", queue.name);
    r.u32(2).u16(0); // property flags 0: no properties
    r.bytes(body, 0, body.length);
    endPublishEnvelope(r);
    this.pool.links[queue.shard]!.publish(r.u8, r.length, [queue.id]);
    this.scheduleFlush();
  }

  /**
   * A routed publish record to one shard's target queues, the body after it when `body` is given
   * (ShardLink.publish); the publisher may be paused (publish_flow.ts).
   */
  publish(publisher: Publisher, shard: number, record: Uint8Array, length: number, queueIds: readonly number[], body?: Uint8Array): void {
    const link = this.pool.links[shard]!;
    link.publish(record, length, queueIds, body);
    this.flow.sent(publisher, link);
    this.scheduleFlush();
  }

  getMessage(queue: QueueRecord, noAck: boolean, reply: (got: GotMessage | null) => void): void {
    this.expiry.used(queue);
    this.pool.links[queue.shard]!.get(queue.id, noAck, reply);
    this.scheduleFlush();
  }

  /** basic.get with no-ack on behalf of the broker itself: the body, or null when the queue is empty. */
  getFromQueue(queue: QueueRecord, done: (body: Uint8Array | null) => void): void {
    this.getMessage(queue, true, (got) => {
      if (got === null) return done(null);
      const propsLengthAt = envelopePropsLengthAt(got.env, got.at);
      done(got.env.slice(propsLengthAt + 4 + readU32(got.env, propsLengthAt), got.at + got.length));
    });
  }

  // --- consumers -----------------------------------------------------------------------------

  addConsumer(consumer: ConsumerRecord, creditSlot: number, prefetch: number, priority: number): void {
    const queue = consumer.queue;
    queue.consumers.add(consumer);
    queue.hadConsumer = true;
    this.expiry.stop(queue);
    this.consumers.set(consumer.id, consumer);
    this.pool.links[queue.shard]!.consume(queue.id, consumer.id, consumer.channel.channelId, creditSlot, prefetch, consumer.noAck ? ConsumeFlag.noAck : 0, priority);
    this.scheduleFlush();
  }

  /** Cancels a consumer; an auto-delete queue goes with its last consumer. */
  removeConsumer(consumer: ConsumerRecord): void {
    if (!this.consumers.delete(consumer.id)) return;
    const queue = consumer.queue;
    queue.consumers.delete(consumer);
    this.pool.links[queue.shard]!.cancel(consumer.id, queue.id);
    this.scheduleFlush();
    if (queue.autoDelete && queue.consumers.size === 0 && !queue.deleted) this.deleteQueue(queue, false, () => {});
    else if (queue.consumers.size === 0) this.expiry.used(queue);
  }

  /** NOT_FOUND as RabbitMQ words it. */
  static noQueue(vhost: string, name: string, site: Site): AmqpError {
    return new AmqpError(ReplyCode.notFound, `no queue '${name}' in vhost '${vhost}'`, site);
  }

  static lockedQueue(queue: QueueRecord, site: Site): AmqpError {
    return new AmqpError(
      ReplyCode.resourceLocked,
      `cannot obtain exclusive access to locked ${resourceName("queue", queue.name, queue.vhost)}. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      site,
    );
  }
}

/** Peers as "address:port"; IPv4 127/8 and IPv6 ::1 (plain or v4-mapped) are loopback. */
function isLoopback(peer: string): boolean {
  const address = peer.slice(0, peer.lastIndexOf(":")).replace(/^\[|\]$/g, "");
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}
