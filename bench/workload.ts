// The engine every scenario runs on: declare a topology, connect producers and consumers, publish
// for a measured window (or fill a queue, then drain it), drain, check exactly-once, tear down.
// Producers compose bursts of pre-encoded frames and re-arm with setImmediate so deliveries and
// confirms interleave; they stop when the socket pushes back, the confirm window is full, their
// rate is reached, or (windowed scenarios) too many deliveries are in flight. Unthrottled
// scenarios ("flood-*") drop that cap, as a fire-and-forget producer does: only the broker's own
// flow control (TCP back-pressure, connection.blocked) holds them back.
import type { RestartableBroker } from "./warren_process.ts";
import { AmqpClient, PublishFrames, type BrokerUrl, type ConfirmWindow, type DeliverySink } from "./amqp_client.ts";
import { PRODUCERS_MAX, SeqTracker } from "./exactness.ts";
import { LatencyHistogram, ProcessSampler, ownCpu_s } from "./stats.ts";

/** Bytes composed per producer burst (at least one message). */
const BURST_BYTES = 256 * 1024;
/** Deliveries in flight (published, not yet consumed) at most, in messages and in body bytes. */
const IN_FLIGHT_MAX_MESSAGES = 100_000;
const IN_FLIGHT_MAX_BYTES = 64 << 20;
/** A drain or settle that makes no progress for this long is given up (and reported). */
const STALL_MS = 15_000;
/** A drain never lasts longer than this. */
const DRAIN_MAX_MS = 1_800_000;
const POLL_MS = 20;
const COUNT_POLL_MS = 100;
const PROGRESS_INTERVAL_MS = 1000;
/** Rate-limited producers are woken this often. */
const PACER_INTERVAL_MS = 2;
/** Connections opened at once during setup. */
const CONNECT_CONCURRENCY = 16;
const TWO_POW_32 = 4294967296;
const NS_PER_S = 1e9;

export interface RunContext {
  url: BrokerUrl;
  /** Label of the broker under test, for progress lines and results. */
  broker: string;
  /** The broker's process for RSS and CPU sampling; null = n/a. */
  brokerPid: number | null;
  duration_s: number;
  /** Makes queue and exchange names unique to this run. */
  prefix: string;
  /** Set when the bench started the broker itself (Warren): restart scenarios use it. */
  restartable?: RestartableBroker | null;
}

export interface ScenarioResult {
  scenario: string;
  broker: string;
  /** The measured window: the publish window, or the drain for fill-then-drain scenarios. */
  window_s: number;
  published: number;
  confirmed: number;
  consumed: number;
  published_per_s: number;
  confirmed_per_s: number;
  consumed_per_s: number;
  /** The scenario's headline rate and what it counts. */
  throughput_per_s: number;
  throughput_unit: string;
  latency_p50_ms: number | null;
  latency_p99_ms: number | null;
  latency_max_ms: number | null;
  broker_peak_rss_bytes: number | null;
  broker_cpu_s: number | null;
  generator_cpu_s: number;
  lost: number;
  duplicated: number;
  reordered: number;
  misrouted: number;
  redelivered: number;
  nacked: number;
  unconfirmed: number;
  foreign: number;
  bogus_confirms: number;
  returned: number;
  blocked: number;
  unblocked: number;
  errors: string[];
  /** Scenario-specific numbers (e.g. backlog_rss_bytes, fill_per_s). */
  extra: Record<string, number>;
}

export interface Topology {
  queues: { name: string; durable: boolean; arguments?: Record<string, number | string> }[];
  exchange: { name: string; type: "fanout" | "topic" } | null;
  bindings: { queue: string; routingKey: string }[];
}

export interface FlowSpec {
  scenario: string;
  topology: Topology;
  producers: number;
  /** Exchange and routing keys of producer p; message seq uses key seq % keys.length. */
  publishTo(producer: number): { exchange: string; routingKeys: string[] };
  body_bytes: number;
  persistent: boolean;
  /** Unconfirmed publishes per producer at most; 0 = no publisher confirms. */
  confirmWindow: number;
  /** Per producer; 0 = as fast as the broker takes them. */
  rate_per_s: number;
  /** Consumer i consumes consumerQueues[i]. */
  consumerQueues: string[];
  /** Trackers: each expects every published message exactly once; consumer i reports to trackerOf(i). */
  trackers: number;
  trackerOf(consumer: number): number;
  /** The consumer that must receive (producer, seq), or null when any may (fanout). */
  route: ((producer: number, seq: number) => number) | null;
  /** Deliveries per published message (fanout 10: 10). */
  fanout: number;
  prefetch: number;
  /** Consumers ack with multiple=true every this many deliveries. */
  ackEvery: number;
  /** Whether latency means anything (not for messages left in a queue on purpose). */
  measureLatency: boolean;
  /** No in-flight cap on the producers: the broker's flow control alone holds them back. */
  unthrottled: boolean;
  throughputUnit: "published/s" | "consumed/s" | "deliveries/s" | "routed/s";
}

interface Rates {
  published_per_s: number;
  confirmed_per_s: number;
  consumed_per_s: number;
}

const NO_RATES: Rates = { published_per_s: 0, confirmed_per_s: 0, consumed_per_s: 0 };

/** Shared counters of one run: what producers may still send, and whom to wake. */
class Flow {
  published = 0;
  consumed = 0;
  maxInFlight = Infinity;
  producers: Producer[] = [];
  private waiting = false;

  constructor(private readonly fanout: number) {}

  /** Messages that may still be published before deliveries in flight hit the cap. */
  room(): number {
    const room = Math.floor((this.maxInFlight - (this.published * this.fanout - this.consumed)) / this.fanout);
    if (room <= 0) this.waiting = true;
    return room;
  }

  onConsumed(): void {
    if (!this.waiting) return;
    this.waiting = false;
    for (const p of this.producers) p.schedule();
  }
}

class Producer {
  published = 0;
  stopped = true;
  limit = Infinity;
  private scheduled = false;
  private readonly burst: number;
  private readonly pumpBound = () => this.pump();
  private start_ns = 0;

  constructor(
    readonly id: number,
    readonly client: AmqpClient,
    private readonly frames: PublishFrames,
    readonly confirms: ConfirmWindow | null,
    private readonly flow: Flow,
    private readonly rate_per_s: number,
    /** Spreads rate-limited producers over the interval between two of their messages. */
    private readonly phase: number,
  ) {
    this.burst = Math.max(1, Math.floor(BURST_BYTES / frames.maxVariant_bytes));
    client.onWritable = () => this.schedule();
    client.onConfirmProgress = () => this.schedule();
  }

  begin(limit: number): void {
    this.limit = limit;
    this.stopped = false;
    this.start_ns = Bun.nanoseconds();
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.pumpBound);
  }

  private pump(): void {
    this.scheduled = false;
    const client = this.client;
    if (this.stopped || !client.writable) return;
    const now = Bun.nanoseconds();
    let n = Math.min(this.burst, this.limit - this.published);
    if (this.confirms !== null) n = Math.min(n, this.confirms.available);
    if (this.rate_per_s > 0) n = Math.min(n, Math.floor(((now - this.start_ns) / NS_PER_S) * this.rate_per_s + this.phase) - this.published);
    n = Math.min(n, this.flow.room());
    if (n <= 0) return; // woken again by a confirm, a consumer, the pacer or drain
    // One stamp per burst: the whole burst leaves in one write.
    const hi = Math.floor(now / TWO_POW_32);
    const lo = now >>> 0;
    const frames = this.frames;
    const variants = frames.variants;
    const id = this.id;
    let seq = this.published;
    for (let i = 0; i < n; i++, seq++) client.appendPublish(frames, variants === 1 ? 0 : seq % variants, id, seq, hi, lo);
    this.published = seq;
    if (this.confirms !== null) this.confirms.published += n;
    this.flow.published += n;
    client.flush();
    if (this.rate_per_s === 0 && this.published < this.limit) this.schedule();
  }
}

class Consumer implements DeliverySink {
  consumed = 0;
  reordered = 0;
  misrouted = 0;
  redelivered = 0;
  private lastTag = 0;
  private ackedTag = 0;
  private readonly lastSeq = new Float64Array(PRODUCERS_MAX).fill(-1);

  constructor(
    readonly index: number,
    readonly client: AmqpClient,
    private readonly channel: number,
    private readonly tracker: SeqTracker,
    private readonly histogram: LatencyHistogram | null,
    private readonly ackEvery: number,
    private readonly flow: Flow,
    private readonly route: ((producer: number, seq: number) => number) | null,
  ) {}

  onDelivery(producer: number, seq: number, latency_ns: number, deliveryTag: number, redelivered: boolean): void {
    this.consumed++;
    this.flow.consumed++;
    this.tracker.record(producer, seq);
    if (producer < PRODUCERS_MAX) {
      // One queue, one consumer, no redelivery: AMQP keeps each publisher's order.
      if (seq <= this.lastSeq[producer]!) this.reordered++;
      else this.lastSeq[producer] = seq;
    }
    if (redelivered) this.redelivered++;
    if (this.route !== null && this.route(producer, seq) !== this.index) this.misrouted++;
    if (this.histogram !== null) this.histogram.record_ns(latency_ns);
    this.lastTag = deliveryTag;
    if (deliveryTag - this.ackedTag >= this.ackEvery) {
      this.client.ackMultiple(this.channel, deliveryTag);
      this.ackedTag = deliveryTag;
      this.flow.onConsumed();
    }
  }

  ackRest(): void {
    if (this.lastTag > this.ackedTag) {
      this.client.ackMultiple(this.channel, this.lastTag);
      this.ackedTag = this.lastTag;
      this.client.flush();
    }
  }
}

/** One scenario's connections, counters and checks. */
class Run {
  readonly flow: Flow;
  readonly trackers: SeqTracker[] = [];
  readonly histogram = new LatencyHistogram();
  readonly errors: string[] = [];
  readonly extra: Record<string, number> = {};
  readonly producers: Producer[] = [];
  readonly consumers: Consumer[] = [];
  private readonly clients: AmqpClient[] = [];
  private admin: AmqpClient | null = null;
  private adminChannel = 0;
  private sampler: ProcessSampler;
  private progressTimer: ReturnType<typeof setInterval> | null = null;
  private pacer: ReturnType<typeof setInterval> | null = null;
  private phase = "setup";
  private phaseStart_ms = 0;
  private cpuStart_s = 0;

  constructor(readonly ctx: RunContext, readonly spec: FlowSpec) {
    this.flow = new Flow(spec.fanout);
    for (let i = 0; i < spec.trackers; i++) this.trackers.push(new SeqTracker());
    this.sampler = new ProcessSampler(ctx.brokerPid);
  }

  async declare(): Promise<void> {
    const { topology } = this.spec;
    this.admin = await AmqpClient.connect(this.ctx.url, `${this.spec.scenario}/admin`);
    this.adminChannel = await this.admin.openChannel();
    const admin = this.admin;
    const ch = this.adminChannel;
    for (const q of topology.queues) {
      await admin.call(ch, { name: "queue.declare", queue: q.name, passive: false, durable: q.durable, exclusive: false, autoDelete: false, nowait: false, arguments: q.arguments ?? {} }, "queue.declare-ok");
    }
    if (topology.exchange !== null) {
      const ex = topology.exchange;
      await admin.call(ch, { name: "exchange.declare", exchange: ex.name, type: ex.type, passive: false, durable: false, autoDelete: false, internal: false, nowait: false, arguments: {} }, "exchange.declare-ok");
      // Pipelined: answers come back in order, so 10,000 bindings cost one round trip, not 10,000.
      await Promise.all(topology.bindings.map((b) =>
        admin.call(ch, { name: "queue.bind", queue: b.queue, exchange: ex.name, routingKey: b.routingKey, nowait: false, arguments: {} }, "queue.bind-ok")));
    }
  }

  async connectConsumers(): Promise<void> {
    const spec = this.spec;
    const measure = spec.measureLatency ? this.histogram : null;
    await forEachLimited(spec.consumerQueues, CONNECT_CONCURRENCY, async (queue, i) => {
      const client = await AmqpClient.connect(this.ctx.url, `${spec.scenario}/consumer-${i}`);
      this.clients.push(client);
      const channel = await client.openChannel();
      const consumer = new Consumer(i, client, channel, this.trackers[spec.trackerOf(i)]!, measure, spec.ackEvery, this.flow, spec.route);
      this.consumers[i] = consumer;
      await client.consume(channel, queue, spec.prefetch, consumer);
    });
  }

  async connectProducers(): Promise<void> {
    const spec = this.spec;
    const ids = Array.from({ length: spec.producers }, (_, i) => i);
    await forEachLimited(ids, CONNECT_CONCURRENCY, async (id) => {
      const client = await AmqpClient.connect(this.ctx.url, `${spec.scenario}/producer-${id}`);
      this.clients.push(client);
      const channel = await client.openChannel();
      const confirms = spec.confirmWindow > 0 ? await client.confirmSelect(channel, spec.confirmWindow) : null;
      const target = spec.publishTo(id);
      const frames = new PublishFrames(channel, target.exchange, target.routingKeys, spec.body_bytes, spec.persistent ? 2 : 1, client.frameMax_bytes);
      this.producers[id] = new Producer(id, client, frames, confirms, this.flow, spec.rate_per_s, id / spec.producers);
    });
    this.flow.producers = this.producers;
  }

  startMeasuring(): void {
    this.sampler.start();
    this.cpuStart_s = ownCpu_s();
    let last = { published: 0, confirmed: 0, consumed: 0 };
    this.progressTimer = setInterval(() => {
      const now = { published: this.flow.published, confirmed: this.confirmed(), consumed: this.flow.consumed };
      const elapsed_s = ((performance.now() - this.phaseStart_ms) / 1000).toFixed(0);
      process.stderr.write(`${this.spec.scenario} [${this.ctx.broker}] ${this.phase} ${elapsed_s}s: published ${rate(now.published - last.published)}/s, ` +
        `confirmed ${rate(now.confirmed - last.confirmed)}/s, consumed ${rate(now.consumed - last.consumed)}/s\n`);
      last = now;
    }, PROGRESS_INTERVAL_MS);
    if (this.spec.rate_per_s > 0) {
      this.pacer = setInterval(() => {
        for (const p of this.producers) p.schedule();
      }, PACER_INTERVAL_MS);
    }
  }

  enterPhase(name: string): void {
    this.phase = name;
    this.phaseStart_ms = performance.now();
  }

  stopMeasuring(): { peak_rss_bytes: number | null; cpu_s: number | null; generator_cpu_s: number } {
    if (this.progressTimer !== null) clearInterval(this.progressTimer);
    if (this.pacer !== null) clearInterval(this.pacer);
    this.progressTimer = null;
    this.pacer = null;
    return { ...this.sampler.stop(), generator_cpu_s: ownCpu_s() - this.cpuStart_s };
  }

  sampleRss(): number | null {
    return this.sampler.sample();
  }

  /**
   * Closes the producers' and the admin connection (their counts stay) and points sampling at
   * `pid`: the broker is about to restart, and a dead connection would fail the run.
   */
  async closeForRestart(): Promise<void> {
    const producerClients = new Set(this.producers.map((p) => p.client));
    await Promise.all([...producerClients].map((c) => c.close()));
    this.clients.splice(0, this.clients.length, ...this.clients.filter((c) => !producerClients.has(c)));
    await this.admin?.close();
    this.admin = null;
  }

  /** After a restart: sampling follows the new process, queue counts go through a new admin connection. */
  async reconnectAfterRestart(pid: number | null): Promise<void> {
    this.sampler.stop();
    this.sampler = new ProcessSampler(pid);
    this.sampler.start();
    this.admin = await AmqpClient.connect(this.ctx.url, `${this.spec.scenario}/admin`);
    this.adminChannel = await this.admin.openChannel();
  }

  confirmed(): number {
    let n = 0;
    for (const p of this.producers) if (p.confirms !== null) n += p.confirms.acked;
    return n;
  }

  /** Throws the first connection failure (a broker that closed on us, or a socket error). */
  checkClients(): void {
    for (const c of [this.admin, ...this.clients]) {
      if (c !== null && c.failure !== null) throw c.failure;
    }
  }

  /** Sleeps ms, or less once done() holds. */
  async sleep(ms: number, done: () => boolean): Promise<void> {
    const until = performance.now() + ms;
    while (performance.now() < until && !done()) {
      this.checkClients();
      await Bun.sleep(Math.min(POLL_MS * 5, until - performance.now()));
    }
    this.checkClients();
  }

  /**
   * Waits until progress() reaches target, polling every poll_ms; gives up (and reports it)
   * after STALL_MS without progress or DRAIN_MAX_MS in all. Returns the last value seen.
   */
  async waitFor(what: string, progress: () => number | Promise<number>, target: number, poll_ms = POLL_MS): Promise<number> {
    const start = performance.now();
    let last = -1;
    let lastChange = start;
    for (;;) {
      this.checkClients();
      const value = await progress();
      if (value >= target) return value;
      const now = performance.now();
      if (value !== last) {
        last = value;
        lastChange = now;
      }
      if (now - lastChange > STALL_MS || now - start > DRAIN_MAX_MS) {
        this.errors.push(`${what}: stuck at ${value} of ${target} (no progress for ${((now - lastChange) / 1000).toFixed(0)} s)`);
        return value;
      }
      await Bun.sleep(poll_ms);
    }
  }

  /** After the producers stopped: everything written, confirmed and (if consumed) delivered. */
  async drain(): Promise<void> {
    for (const p of this.producers) p.stopped = true;
    await this.waitFor("writing publishes (minus the bytes not yet written)", () => -this.producers.reduce((n, p) => n + p.client.tx.pending_bytes, 0), 0);
    const toConfirm = this.producers.reduce((n, p) => n + (p.confirms?.published ?? 0), 0);
    await this.waitFor("confirms", () => this.producers.reduce((n, p) => n + (p.confirms?.settled ?? 0), 0), toConfirm);
    if (this.consumers.length > 0) await this.waitForDeliveries();
  }

  async waitForDeliveries(): Promise<void> {
    const expected = this.flow.published * this.trackers.length;
    await this.waitFor("deliveries", () => this.distinct(), expected);
  }

  distinct(): number {
    let n = 0;
    for (const t of this.trackers) n += t.distinct;
    return n;
  }

  /** Ready messages in the scenario's queues now (passive declares). */
  async queued(): Promise<number> {
    const admin = this.admin;
    if (admin === null) throw new Error("no admin connection");
    let n = 0;
    for (const q of this.spec.topology.queues) {
      const ok = await admin.call(this.adminChannel, { name: "queue.declare", queue: q.name, passive: true, durable: q.durable, exclusive: false, autoDelete: false, nowait: false, arguments: {} }, "queue.declare-ok");
      n += ok.messageCount;
    }
    return n;
  }

  /** Passive-declares every queue until their message counts add up to target; returns the count. */
  async waitForQueued(target: number): Promise<number> {
    return await this.waitFor("queued messages", () => this.queued(), target, COUNT_POLL_MS);
  }

  /** Closes every connection, then deletes what the scenario declared (on a fresh connection if needed). */
  async teardown(): Promise<void> {
    for (const c of this.consumers) if (c !== undefined && c.client.failure === null) c.ackRest();
    await Promise.all(this.clients.map((c) => c.close()));
    try {
      let admin = this.admin;
      if (admin === null || admin.failure !== null) {
        admin?.destroy();
        admin = await AmqpClient.connect(this.ctx.url, `${this.spec.scenario}/cleanup`);
        this.adminChannel = await admin.openChannel();
        this.admin = admin;
      }
      const ch = this.adminChannel;
      await Promise.all(this.spec.topology.queues.map((q) =>
        admin.call(ch, { name: "queue.delete", queue: q.name, ifUnused: false, ifEmpty: false, nowait: false }, "queue.delete-ok")));
      const ex = this.spec.topology.exchange;
      if (ex !== null) await admin.call(ch, { name: "exchange.delete", exchange: ex.name, ifUnused: false, nowait: false }, "exchange.delete-ok");
    } catch (error) {
      this.errors.push(`cleanup: ${(error as Error).message}`);
    }
    await this.admin?.close();
  }

  fail(error: unknown): void {
    this.errors.push((error as Error).message ?? String(error));
  }

  result(window_s: number, rates: Rates, usage: ReturnType<Run["stopMeasuring"]>): ScenarioResult {
    const spec = this.spec;
    const published = this.flow.published;
    let lost = 0;
    let duplicated = 0;
    let foreign = 0;
    if (this.consumers.length > 0) {
      for (const t of this.trackers) {
        lost += Math.max(0, published - t.distinct);
        duplicated += t.duplicated;
        foreign += t.foreign;
      }
    } else if (this.extra["queued"] !== undefined) {
      lost = Math.max(0, published - this.extra["queued"]);
      duplicated = Math.max(0, this.extra["queued"] - published);
    }
    let nacked = 0;
    let unconfirmed = 0;
    let bogus = 0;
    for (const p of this.producers) {
      if (p.confirms === null) continue;
      nacked += p.confirms.nacked;
      unconfirmed += p.confirms.published - p.confirms.settled;
      bogus += p.confirms.bogus;
    }
    const sum = (f: (c: Consumer) => number) => this.consumers.reduce((n, c) => n + f(c), 0);
    const allClients = [...this.clients, ...(this.admin === null ? [] : [this.admin])];
    const cancelled = allClients.reduce((n, c) => n + c.counters.cancelledByBroker, 0);
    if (cancelled > 0) this.errors.push(`the broker cancelled ${cancelled} consumer(s) (basic.cancel) before the scenario ended`);
    return {
      scenario: spec.scenario,
      broker: this.ctx.broker,
      window_s,
      published,
      confirmed: this.confirmed(),
      consumed: this.flow.consumed,
      ...rates,
      throughput_per_s: spec.throughputUnit === "published/s" ? rates.published_per_s : rates.consumed_per_s,
      throughput_unit: spec.throughputUnit,
      latency_p50_ms: this.histogram.percentile_ms(50),
      latency_p99_ms: this.histogram.percentile_ms(99),
      latency_max_ms: this.histogram.max_ms,
      broker_peak_rss_bytes: usage.peak_rss_bytes,
      broker_cpu_s: usage.cpu_s,
      generator_cpu_s: usage.generator_cpu_s,
      lost,
      duplicated,
      reordered: sum((c) => c.reordered),
      misrouted: sum((c) => c.misrouted),
      redelivered: sum((c) => c.redelivered),
      nacked,
      unconfirmed,
      foreign,
      bogus_confirms: bogus,
      returned: allClients.reduce((n, c) => n + c.counters.returned, 0),
      blocked: allClients.reduce((n, c) => n + c.counters.blocked, 0),
      unblocked: allClients.reduce((n, c) => n + c.counters.unblocked, 0),
      errors: this.errors,
      extra: this.extra,
    };
  }
}

/** What a scenario measured; filled in as it goes, so a failure late in a run keeps the rates. */
interface Measured {
  window_s: number;
  rates: Rates;
}

/** The frame of every run: measure, report a failure as an error, stop sampling, tear down. */
async function execute(ctx: RunContext, spec: FlowSpec, measure: (run: Run, m: Measured) => Promise<void>): Promise<ScenarioResult> {
  const run = new Run(ctx, spec);
  const m: Measured = { window_s: 0, rates: NO_RATES };
  try {
    await run.declare();
    await measure(run, m);
  } catch (error) {
    run.fail(error);
  }
  const usage = run.stopMeasuring();
  await run.teardown();
  return run.result(m.window_s, m.rates, usage);
}

/**
 * Publishes for ctx.duration_s with consumers running (if any), then drains and checks. With no
 * consumers the queues' message counts are checked against what was published instead.
 */
export function runTimed(ctx: RunContext, spec: FlowSpec, maxMessages = Infinity): Promise<ScenarioResult> {
  return execute(ctx, spec, async (run, m) => {
    await run.connectConsumers();
    await run.connectProducers();
    if (spec.consumerQueues.length > 0 && !spec.unthrottled) {
      run.flow.maxInFlight = Math.max(1, Math.min(IN_FLIGHT_MAX_MESSAGES, Math.floor(IN_FLIGHT_MAX_BYTES / spec.body_bytes)));
    }
    run.enterPhase("run");
    run.startMeasuring();
    const start = performance.now();
    for (const p of run.producers) p.begin(maxMessages);
    try {
      // A producer that reached maxMessages ends the window early: its rate is over the time it took.
      await run.sleep(ctx.duration_s * 1000, () => run.producers.every((p) => p.published >= maxMessages));
    } finally {
      m.window_s = (performance.now() - start) / 1000;
      m.rates = {
        published_per_s: run.flow.published / m.window_s,
        confirmed_per_s: run.confirmed() / m.window_s,
        consumed_per_s: run.flow.consumed / m.window_s,
      };
    }
    if (spec.unthrottled) run.extra["queue_depth"] = await run.queued();
    run.enterPhase("drain");
    await run.drain();
    if (spec.consumerQueues.length === 0) run.extra["queued"] = await run.waitForQueued(run.flow.published);
  });
}

/**
 * Publishes fill_messages with nobody consuming, waits until the queues hold them all, samples the
 * broker's RSS, then starts the consumers and times the drain (the measured window). With
 * `restart`, a persistent backlog is taken across a restart of the broker first when the bench
 * owns it: the data dir's size, the time until the port answers and until the first delivery.
 */
export function runFillDrain(ctx: RunContext, spec: FlowSpec, fill_messages: number, restart = false): Promise<ScenarioResult> {
  return execute(ctx, spec, async (run, m) => {
    const fill_s = await fill(run, spec, fill_messages);
    const broker = restart && spec.persistent ? (ctx.restartable ?? null) : null;
    let answered = 0;
    if (broker !== null) {
      run.extra["disk_bytes"] = directoryBytes(broker.dataDir);
      run.enterPhase("restart");
      await run.closeForRestart();
      const timing = await broker.restart();
      run.extra["restart_port_ms"] = timing.port_ms;
      answered = performance.now();
      await run.reconnectAfterRestart(timing.pid);
      const rssAfter = run.sampleRss();
      if (rssAfter !== null) run.extra["restarted_rss_bytes"] = rssAfter;
    }
    run.enterPhase("drain");
    const drainStart = performance.now();
    await run.connectConsumers();
    if (broker !== null) {
      await run.waitFor("first delivery", () => run.flow.consumed, 1, 1);
      run.extra["first_delivery_ms"] = performance.now() - answered;
    }
    await run.waitForDeliveries();
    m.window_s = (performance.now() - drainStart) / 1000;
    // Published and confirmed rates of a fill-then-drain scenario are the fill's.
    m.rates = {
      published_per_s: run.flow.published / fill_s,
      confirmed_per_s: run.confirmed() / fill_s,
      consumed_per_s: run.flow.consumed / m.window_s,
    };
  });
}

const SETTLE_MS = 2_000;

/**
 * Publishes fill_messages with nobody consuming, waits until the queues hold them all and samples
 * the broker's RSS (backlog_rss_bytes, and settled_rss_bytes SETTLE_MS later); returns how long the
 * fill took.
 */
async function fill(run: Run, spec: FlowSpec, fill_messages: number): Promise<number> {
  await run.connectProducers();
  run.enterPhase("fill");
  run.startMeasuring();
  const fillStart = performance.now();
  const perProducer = Math.ceil(fill_messages / spec.producers);
  for (const p of run.producers) p.begin(perProducer);
  await run.waitFor("fill", () => run.flow.published, perProducer * spec.producers);
  await run.drain();
  run.extra["queued"] = await run.waitForQueued(run.flow.published);
  const fill_s = (performance.now() - fillStart) / 1000;
  const rss = run.sampleRss();
  if (rss !== null) run.extra["backlog_rss_bytes"] = rss;
  // What holding the backlog costs once the fill's garbage is collected, sampled the same way on
  // every broker: after SETTLE_MS with nothing published or consumed.
  await Bun.sleep(SETTLE_MS);
  const settled = run.sampleRss();
  if (settled !== null) run.extra["settled_rss_bytes"] = settled;
  return fill_s;
}

/** Bytes a directory's files take on disk (du). */
function directoryBytes(dir: string): number {
  const out = Bun.spawnSync(["du", "-sb", dir], { stdout: "pipe", stderr: "ignore" });
  return Number(out.stdout.toString().split("\t")[0] ?? 0);
}

/**
 * Publishes unthrottled with nobody consuming for flood_s (the broker's memory alarm is what stops
 * the producers), then starts the consumers and waits until every message the broker took has been
 * delivered: the publish rate is the flood's, the consume rate the drain's.
 */
export function runFloodDrain(ctx: RunContext, spec: FlowSpec, flood_s: number): Promise<ScenarioResult> {
  return execute(ctx, spec, async (run, m) => {
    await run.connectProducers();
    run.enterPhase("flood");
    run.startMeasuring();
    const start = performance.now();
    for (const p of run.producers) p.begin(Infinity);
    await run.sleep(flood_s * 1000, () => false);
    const flood_s_measured = (performance.now() - start) / 1000;
    for (const p of run.producers) p.stopped = true;
    run.extra["queue_depth"] = await run.queued();
    run.enterPhase("drain");
    const drainStart = performance.now();
    await run.connectConsumers();
    await run.drain();
    m.window_s = (performance.now() - drainStart) / 1000;
    m.rates = { published_per_s: run.flow.published / flood_s_measured, confirmed_per_s: 0, consumed_per_s: run.flow.consumed / m.window_s };
  });
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function rate(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
