// The scenarios: each declares its own fresh queues and exchanges (named after the run), runs on
// the workload engine and deletes them afterwards. Bodies are 16 bytes unless the name says so.
import type { FlowSpec, RunContext, ScenarioResult } from "./workload.ts";
import { runFillDrain, runFloodDrain, runTimed } from "./workload.ts";

export interface ScenarioOptions {
  /** Messages left in the queue by backlog-1m before its drain. */
  backlog_messages: number;
  /** Messages pre-filled for consume-only. */
  prefill_messages: number;
  /** Total publish rate of connections-100, msg/s. */
  connectionsRate_per_s: number;
  /** How long flood-publish-only publishes before its drain. */
  flood_s: number;
  /** Messages of backlog-100m and backlog-10m-transient when set (else 100 and 10 million). */
  longBacklog_messages: number | null;
}

export const defaultScenarioOptions: ScenarioOptions = {
  backlog_messages: 1_000_000,
  prefill_messages: 500_000,
  connectionsRate_per_s: 10_000,
  flood_s: 60,
  longBacklog_messages: null,
};

export interface Scenario {
  name: string;
  /** Runs only when named with --scenario (it takes minutes). */
  optIn?: boolean;
  run(ctx: RunContext, options: ScenarioOptions): Promise<ScenarioResult>;
}

const SMALL_BODY_BYTES = 16;
const PREFETCH = 1000;
const ACK_EVERY = 100;
const CONFIRM_WINDOW = 1000;
const FANOUT_QUEUES = 10;
const TOPIC_QUEUES = 10;
const TOPIC_BINDINGS = 10_000;
const CONNECTIONS = 100;
/** publish-only stops here even if the window is not over: memory, not speed, would be measured. */
const PUBLISH_ONLY_MAX_MESSAGES = 5_000_000;

function queueName(ctx: RunContext, scenario: string, i = 0): string {
  return `${ctx.prefix}.${scenario}.q${i}`;
}

/** One producer, one queue, (optionally) one consumer: the shape of most scenarios. */
function oneToOne(ctx: RunContext, scenario: string, body_bytes: number, persistent: boolean, consumers: 0 | 1): FlowSpec {
  const queue = queueName(ctx, scenario);
  return {
    scenario,
    topology: { queues: [{ name: queue, durable: persistent }], exchange: null, bindings: [] },
    producers: 1,
    publishTo: () => ({ exchange: "", routingKeys: [queue] }),
    body_bytes,
    persistent,
    confirmWindow: persistent ? CONFIRM_WINDOW : 0,
    rate_per_s: 0,
    consumerQueues: consumers === 1 ? [queue] : [],
    trackers: 1,
    trackerOf: () => 0,
    route: null,
    fanout: 1,
    prefetch: PREFETCH,
    ackEvery: ACK_EVERY,
    measureLatency: true,
    unthrottled: false,
    throughputUnit: consumers === 1 ? "consumed/s" : "published/s",
  };
}

function pipe(name: string, body_bytes: number, persistent: boolean): Scenario {
  return { name, run: (ctx) => runTimed(ctx, oneToOne(ctx, name, body_bytes, persistent, 1)) };
}

/** RabbitMQ PerfTest's consumer shape for the unthrottled rows: prefetch 1000, a multiple ack every 500. */
const FLOOD_PREFETCH = 1000;
const FLOOD_ACK_EVERY = 500;
const FLOOD_TOPIC_BINDINGS = 1000;

/** The windowed spec with the producers' in-flight cap removed. */
function unthrottled(spec: FlowSpec, prefetch = FLOOD_PREFETCH): FlowSpec {
  return { ...spec, unthrottled: true, prefetch, ackEvery: Math.min(FLOOD_ACK_EVERY, Math.max(1, prefetch / 2)) };
}

function fanout(ctx: RunContext, scenario: string): FlowSpec {
  const exchange = `${ctx.prefix}.${scenario}.x`;
  const queues = Array.from({ length: FANOUT_QUEUES }, (_, i) => queueName(ctx, scenario, i));
  return {
    ...oneToOne(ctx, scenario, SMALL_BODY_BYTES, false, 1),
    topology: { queues: queues.map((name) => ({ name, durable: false })), exchange: { name: exchange, type: "fanout" }, bindings: queues.map((queue) => ({ queue, routingKey: "" })) },
    publishTo: () => ({ exchange, routingKeys: [""] }),
    consumerQueues: queues,
    trackers: FANOUT_QUEUES,
    trackerOf: (consumer) => consumer,
    fanout: FANOUT_QUEUES,
    throughputUnit: "deliveries/s",
  };
}

/**
 * Binding i is "bench.<i>.*" to queue i % queues; a message with key "bench.<i>.x" matches exactly
 * that binding, so every message reaches exactly one queue, known from its seq.
 */
function topic(ctx: RunContext, scenario: string, queueCount: number, bindingCount: number): FlowSpec {
  const exchange = `${ctx.prefix}.${scenario}.x`;
  const queues = Array.from({ length: queueCount }, (_, i) => queueName(ctx, scenario, i));
  const bindings = Array.from({ length: bindingCount }, (_, i) => ({ queue: queues[i % queueCount]!, routingKey: `bench.${i}.*` }));
  const keys = Array.from({ length: bindingCount }, (_, i) => `bench.${i}.x`);
  return {
    ...oneToOne(ctx, scenario, SMALL_BODY_BYTES, false, 1),
    topology: { queues: queues.map((name) => ({ name, durable: false })), exchange: { name: exchange, type: "topic" }, bindings },
    publishTo: () => ({ exchange, routingKeys: keys }),
    consumerQueues: queues,
    trackers: 1,
    trackerOf: () => 0,
    // The producer uses key seq % bindingCount.
    route: (_producer, seq) => (seq % bindingCount) % queueCount,
    throughputUnit: "routed/s",
  };
}

export const SCENARIOS: readonly Scenario[] = [
  pipe("transient-1-1", SMALL_BODY_BYTES, false),
  pipe("persistent-1-1", SMALL_BODY_BYTES, true),
  {
    name: "publish-only",
    run: (ctx) => runTimed(ctx, oneToOne(ctx, "publish-only", SMALL_BODY_BYTES, false, 0), PUBLISH_ONLY_MAX_MESSAGES),
  },
  {
    name: "consume-only",
    run: (ctx, o) => runFillDrain(ctx, { ...oneToOne(ctx, "consume-only", SMALL_BODY_BYTES, false, 1), measureLatency: false }, o.prefill_messages),
  },
  { name: "fanout-10", run: (ctx) => runTimed(ctx, fanout(ctx, "fanout-10")) },
  { name: "topic-10k", run: (ctx) => runTimed(ctx, topic(ctx, "topic-10k", TOPIC_QUEUES, TOPIC_BINDINGS)) },
  {
    // A 10-level priority queue fed messages without a priority: what the priority path costs.
    name: "priority-1-1",
    run: (ctx) => {
      const spec = oneToOne(ctx, "priority-1-1", SMALL_BODY_BYTES, false, 1);
      return runTimed(ctx, { ...spec, topology: { ...spec.topology, queues: spec.topology.queues.map((q) => ({ ...q, arguments: { "x-max-priority": 10 } })) } });
    },
  },
  {
    // Every message expires at once in its first queue (x-message-ttl 0, no consumer there) and
    // is dead-lettered into the second, which is consumed: the cost of a dead-letter hop.
    name: "dead-letter-chain",
    run: (ctx) => {
      const first = queueName(ctx, "dead-letter-chain", 0);
      const second = queueName(ctx, "dead-letter-chain", 1);
      const spec = oneToOne(ctx, "dead-letter-chain", SMALL_BODY_BYTES, false, 1);
      return runTimed(ctx, {
        ...spec,
        topology: {
          queues: [
            { name: second, durable: false },
            { name: first, durable: false, arguments: { "x-message-ttl": 0, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": second } },
          ],
          exchange: null,
          bindings: [],
        },
        publishTo: () => ({ exchange: "", routingKeys: [first] }),
        consumerQueues: [second],
      });
    },
  },
  pipe("body-1k-transient", 1024, false),
  pipe("body-1k-persistent", 1024, true),
  pipe("body-64k-transient", 65536, false),
  pipe("body-64k-persistent", 65536, true),
  {
    name: "connections-100",
    run: (ctx, o) => {
      // 100 publishing connections at a fixed total rate, each into its own queue, each queue
      // consumed on its own connection: latency at a load every broker should sustain.
      const queues = Array.from({ length: CONNECTIONS }, (_, i) => queueName(ctx, "connections-100", i));
      return runTimed(ctx, {
        ...oneToOne(ctx, "connections-100", SMALL_BODY_BYTES, false, 1),
        topology: { queues: queues.map((name) => ({ name, durable: false })), exchange: null, bindings: [] },
        producers: CONNECTIONS,
        publishTo: (producer) => ({ exchange: "", routingKeys: [queues[producer]!] }),
        rate_per_s: o.connectionsRate_per_s / CONNECTIONS,
        consumerQueues: queues,
        route: (producer) => producer,
      });
    },
  },
  {
    name: "backlog-1m",
    run: (ctx, o) => runFillDrain(ctx, { ...oneToOne(ctx, "backlog-1m", SMALL_BODY_BYTES, false, 1), measureLatency: false }, o.backlog_messages),
  },
  {
    // Persistent, with confirms, into one durable queue; then a restart (when the bench started the
    // broker) and the drain: memory and disk per queued message, recovery time, paged drain rate.
    name: "backlog-100m",
    optIn: true,
    run: (ctx, o) => runFillDrain(ctx, { ...oneToOne(ctx, "backlog-100m", SMALL_BODY_BYTES, true, 1), measureLatency: false }, o.longBacklog_messages ?? 100_000_000, true),
  },
  {
    name: "backlog-10m-transient",
    optIn: true,
    run: (ctx, o) => runFillDrain(ctx, { ...oneToOne(ctx, "backlog-10m-transient", SMALL_BODY_BYTES, false, 1), measureLatency: false }, o.longBacklog_messages ?? 10_000_000),
  },
  // Producers that never hold back (no in-flight cap, no confirms), as RabbitMQ PerfTest runs them.
  { name: "flood-1-1", run: (ctx) => runTimed(ctx, unthrottled(oneToOne(ctx, "flood-1-1", SMALL_BODY_BYTES, false, 1))) },
  { name: "flood-fanout-10", run: (ctx) => runTimed(ctx, unthrottled(fanout(ctx, "flood-fanout-10"))) },
  { name: "flood-topic-1k", run: (ctx) => runTimed(ctx, unthrottled(topic(ctx, "flood-topic-1k", 1, FLOOD_TOPIC_BINDINGS))) },
  { name: "flood-64k", run: (ctx) => runTimed(ctx, unthrottled(oneToOne(ctx, "flood-64k", 65536, false, 1), 100)) },
  {
    name: "flood-publish-only",
    optIn: true,
    run: (ctx, o) => runFloodDrain(ctx, { ...unthrottled(oneToOne(ctx, "flood-publish-only", SMALL_BODY_BYTES, false, 1)), measureLatency: false }, o.flood_s),
  },
];

export function findScenarios(names: readonly string[]): Scenario[] {
  if (names.length === 0) return SCENARIOS.filter((s) => s.optIn !== true);
  return names.map((name) => {
    const found = SCENARIOS.find((s) => s.name === name);
    if (found === undefined) throw new Error(`unknown scenario '${name}'; known: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    return found;
  });
}
