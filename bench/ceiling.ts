// The generator's own limit. A discard sink - a separate process, so that its work does not
// share the generator's thread - answers the handshake and every declare, swallows publishes
// (counting them per queue, confirming each chunk's publishes with one multiple ack) and, for a
// queue with a consumer, echoes each publish straight back as a delivery. Running scenarios
// against it measures what the generator can push and parse when the "broker" costs nearly
// nothing. Run as `bun bench/ceiling.ts --sink`, it is that sink.
import type { Socket } from "bun";
import { FrameSplitter, TxBuffer, parseAmqpUrl, readU32, writeU32 } from "./amqp_client.ts";
import { decodeMethod, type Method } from "../src/protocol/methods.ts";
import { FrameWriter } from "../src/protocol/writer.ts";
import type { RunContext, ScenarioResult } from "./workload.ts";
import type { Scenario, ScenarioOptions } from "./scenarios.ts";

/** Scenarios the sink can serve: the default exchange only, one consumer per queue. */
export const CEILING_SCENARIOS = ["publish-only", "transient-1-1", "persistent-1-1", "body-1k-transient", "body-64k-transient"];

const FRAME_MAX_BYTES = 131072;
const FRAME_HEADER_BYTES = 7;
const PROTOCOL_HEADER_BYTES = 8;
const START_TIMEOUT_MS = 10_000;
const TWO_POW_32 = 4294967296;

interface SinkQueue {
  name: string;
  /** Messages swallowed (published while nobody consumed). */
  count: number;
  consumer: SinkConsumer | null;
}

interface SinkConsumer {
  connection: SinkConnection;
  channel: number;
  tag: string;
  /** basic.deliver frame with delivery tag 0; the tag is patched at tagAt. */
  deliver: Uint8Array;
  tagAt: number;
  nextTag: number;
}

class SinkChannel {
  confirming = false;
  published = 0;
  confirmedTag = 0;
  /** Where the content being received goes: a queue (default exchange) or nowhere. */
  target: SinkQueue | null = null;
  body_remaining = 0;
  /** The routing key of the last publish and its queue, so repeated keys need no string decode. */
  lastKey = new Uint8Array(0);
  lastQueue: SinkQueue | null = null;
}

const queues = new Map<string, SinkQueue>();
const dirty = new Set<SinkConnection>();

class SinkConnection {
  readonly tx = new TxBuffer();
  readonly channels: (SinkChannel | undefined)[] = [];
  private readonly splitter = new FrameSplitter((t, c, b, p, s) => this.onFrame(t, c, b, p, s), FRAME_MAX_BYTES);
  private readonly writer = new FrameWriter(4096);
  private header_bytes = 0;
  private consumers = 0;

  constructor(readonly socket: Socket<SinkConnection>) {}

  onData(chunk: Uint8Array): void {
    let from = 0;
    if (this.header_bytes < PROTOCOL_HEADER_BYTES) {
      from = Math.min(PROTOCOL_HEADER_BYTES - this.header_bytes, chunk.length);
      this.header_bytes += from;
      if (this.header_bytes === PROTOCOL_HEADER_BYTES) {
        this.send(0, { name: "connection.start", versionMajor: 0, versionMinor: 9, serverProperties: { product: "warren-bench-sink" }, mechanisms: "PLAIN", locales: "en_US" });
      }
    }
    this.splitter.push(chunk, from);
    for (let ch = 1; ch < this.channels.length; ch++) {
      const c = this.channels[ch];
      if (c !== undefined && c.confirming && c.published > c.confirmedTag) {
        c.confirmedTag = c.published;
        this.writer.basicAck(ch, c.published, true);
        this.queueWriter();
      }
    }
    dirty.add(this);
    for (const conn of dirty) conn.flush();
    dirty.clear();
  }

  flush(): void {
    this.tx.flush(this.socket);
  }

  onClose(): void {
    for (const q of queues.values()) if (q.consumer?.connection === this) q.consumer = null;
  }

  private onFrame(type: number, channel: number, b: Uint8Array, p: number, size: number): void {
    const ch = this.channels[channel];
    if (type === 1) {
      const classId = (b[p]! << 8) | b[p + 1]!;
      const methodId = (b[p + 2]! << 8) | b[p + 3]!;
      if (classId === 60 && methodId === 40 && ch !== undefined) {
        ch.target = this.route(ch, b, p + 6);
        if (ch.confirming) ch.published++;
        return;
      }
      if (classId === 60 && methodId === 80) return; // a consumer's ack: nothing to settle here
      this.onControl(channel, decodeMethod(b, p, size));
      return;
    }
    if (ch === undefined) return;
    const consumer = ch.target?.consumer ?? null;
    if (type === 2) {
      ch.body_remaining = readU32(b, p + 4) * TWO_POW_32 + readU32(b, p + 8);
      if (consumer !== null) {
        const c = consumer.connection.tx;
        const tag = ++consumer.nextTag;
        const at = c.append(consumer.deliver, 0, consumer.deliver.length);
        writeU32(c.buf, at + consumer.tagAt, Math.floor(tag / TWO_POW_32));
        writeU32(c.buf, at + consumer.tagAt + 4, tag >>> 0);
        this.copyFrame(consumer, b, p, size);
      }
    } else if (type === 3) {
      if (consumer !== null) this.copyFrame(consumer, b, p, size);
      ch.body_remaining -= size;
    }
    if (ch.body_remaining <= 0) {
      if (ch.target !== null && consumer === null) ch.target.count++;
      ch.target = null;
    }
  }

  /** The queue of a default-exchange publish (exchange shortstr at p), null for any other exchange. */
  private route(ch: SinkChannel, b: Uint8Array, p: number): SinkQueue | null {
    if (b[p] !== 0) return null;
    const keyLength = b[p + 1]!;
    const key = b.subarray(p + 2, p + 2 + keyLength);
    if (ch.lastQueue !== null && sameBytes(ch.lastKey, key)) return ch.lastQueue;
    const queue = queues.get(new TextDecoder().decode(key)) ?? null;
    ch.lastKey = key.slice();
    ch.lastQueue = queue;
    return queue;
  }

  /** Appends frame bytes to the consumer's connection with the channel number rewritten. */
  private copyFrame(consumer: SinkConsumer, b: Uint8Array, p: number, size: number): void {
    const tx = consumer.connection.tx;
    const at = tx.append(b, p - FRAME_HEADER_BYTES, p + size + 1);
    tx.buf[at + 1] = consumer.channel >>> 8;
    tx.buf[at + 2] = consumer.channel & 0xff;
    dirty.add(consumer.connection);
  }

  private onControl(channel: number, m: Method): void {
    switch (m.name) {
      case "connection.start-ok":
        return this.send(0, { name: "connection.tune", channelMax: 2047, frameMax: FRAME_MAX_BYTES, heartbeat: 0 });
      case "connection.tune-ok":
        return;
      case "connection.open":
        return this.send(0, { name: "connection.open-ok" });
      case "connection.close":
        this.send(0, { name: "connection.close-ok" });
        this.flush();
        this.socket.end();
        return;
      case "channel.open":
        this.channels[channel] = new SinkChannel();
        return this.send(channel, { name: "channel.open-ok" });
      case "channel.close":
        this.channels[channel] = undefined;
        return this.send(channel, { name: "channel.close-ok" });
      case "confirm.select":
        this.channels[channel]!.confirming = true;
        return this.send(channel, { name: "confirm.select-ok" });
      case "basic.qos":
        return this.send(channel, { name: "basic.qos-ok" });
      case "queue.declare": {
        let q = queues.get(m.queue);
        if (q === undefined) {
          q = { name: m.queue, count: 0, consumer: null };
          queues.set(m.queue, q);
        }
        return this.send(channel, { name: "queue.declare-ok", queue: q.name, messageCount: q.count, consumerCount: q.consumer === null ? 0 : 1 });
      }
      case "queue.delete": {
        const q = queues.get(m.queue);
        queues.delete(m.queue);
        for (const c of this.channels) if (c !== undefined) c.lastQueue = null;
        return this.send(channel, { name: "queue.delete-ok", messageCount: q?.count ?? 0 });
      }
      case "queue.bind":
        return this.send(channel, { name: "queue.bind-ok" });
      case "exchange.declare":
        return this.send(channel, { name: "exchange.declare-ok" });
      case "exchange.delete":
        return this.send(channel, { name: "exchange.delete-ok" });
      case "basic.consume": {
        const q = queues.get(m.queue);
        if (q === undefined) throw new Error(`sink: consume from unknown queue ${m.queue}`);
        const tag = `sink-${++this.consumers}`;
        this.writer.basicDeliver(channel, tag, 0, false, "", q.name);
        const deliver = this.writer.take().slice();
        q.consumer = { connection: this, channel, tag, deliver, tagAt: FRAME_HEADER_BYTES + 4 + 1 + tag.length, nextTag: 0 };
        return this.send(channel, { name: "basic.consume-ok", consumerTag: tag });
      }
      default:
        throw new Error(`sink: unsupported ${m.name}`);
    }
  }

  private send(channel: number, m: Method): void {
    this.writer.methodFrame(channel, m);
    this.queueWriter();
    dirty.add(this);
  }

  private queueWriter(): void {
    const bytes = this.writer.take();
    this.tx.append(bytes, 0, bytes.length);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function runSink(): void {
  const server = Bun.listen<SinkConnection>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.setNoDelay(true);
        socket.data = new SinkConnection(socket);
      },
      data(socket, chunk) {
        try {
          socket.data.onData(chunk);
        } catch (error) {
          process.stderr.write(`sink: ${(error as Error).message}\n`);
          socket.end();
        }
      },
      drain(socket) {
        socket.data.tx.backpressured = false;
        socket.data.flush();
      },
      close(socket) {
        socket.data?.onClose();
      },
    },
  });
  process.stdout.write(`sink listening ${server.port}\n`);
  // The sink lives as long as the bench that started it: its stdin closes when the bench exits.
  void (async () => {
    for await (const _ of Bun.stdin.stream()) {
      // Nothing is ever sent; the loop ends at end of input.
    }
    process.exit(0);
  })();
}

interface Sink {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startSink(): Promise<Sink> {
  const proc = Bun.spawn(["bun", import.meta.path, "--sink"], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/sink listening (\d+)/.test(out)) {
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error("the ceiling sink did not start");
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`the ceiling sink exited: ${out}`);
    out += decoder.decode(value);
  }
  const port = Number(/sink listening (\d+)/.exec(out)![1]);
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    pid: proc.pid,
    stop: async () => {
      proc.stdin.end();
      await Promise.race([proc.exited, Bun.sleep(START_TIMEOUT_MS)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}

/** Runs the ceiling scenarios against a fresh sink; the sink's RSS/CPU stand in the broker columns. */
export async function runCeiling(scenarios: readonly Scenario[], ctx: Omit<RunContext, "url" | "brokerPid" | "broker">, options: ScenarioOptions,
  onResult: (r: ScenarioResult) => void): Promise<ScenarioResult[]> {
  const sink = await startSink();
  const results: ScenarioResult[] = [];
  try {
    for (const s of scenarios) {
      const r = await s.run({ ...ctx, url: parseAmqpUrl(sink.url), brokerPid: sink.pid, broker: "sink" }, options);
      results.push(r);
      onResult(r);
    }
  } finally {
    await sink.stop();
  }
  return results;
}

if (import.meta.main && process.argv.includes("--sink")) runSink();
