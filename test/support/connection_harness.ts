// The acceptor's Connection and Channel over a real Broker (with its shard worker) in this process,
// without a listener: a fake socket stands in for Bun's, client frames are encoded with Warren's
// own protocol code and fed to connection.onData, and what the broker writes is parsed back with
// its frame parser and method decoder. Tests wait on the broker's replies (bounded polls), never
// on fixed sleeps.
import { frameBytes } from "./raw_amqp.ts";
import type { Socket } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Connection, type ConnectionLimits } from "../../src/acceptor/connection.ts";
import { Broker } from "../../src/broker/broker.ts";
import { log } from "../../src/log.ts";
import { ClassId, FrameType, PROTOCOL_HEADER } from "../../src/protocol/constants.ts";
import { decodeContentHeader } from "../../src/protocol/content_header.ts";
import { FrameParser, type FrameSink } from "../../src/protocol/frame_parser.ts";
import { decodeMethod, hasContent, type Method, type MethodName, type MethodOf } from "../../src/protocol/methods.ts";
import { decodeProperties, encodeProperties, type BasicProperties } from "../../src/protocol/properties.ts";
import type { FieldTable } from "../../src/protocol/table.ts";
import { FrameWriter } from "../../src/protocol/writer.ts";

/** How long a test waits for the broker's answer before it fails. */
export const WAIT_MS = 2_000;

export const LIMITS: ConnectionLimits = { frameMax_bytes: 131_072, channelMax: 16, heartbeat_s: 0, productName: "Warren" };

/** One method from the broker, with its content when it carries one (basic.deliver, get-ok, return). */
export interface Received {
  channel: number;
  method: Method;
  properties?: BasicProperties;
  body?: Uint8Array;
}

export interface CloseInfo {
  replyCode: number;
  replyText: string;
  classId: number;
  methodId: number;
}

export interface Delivery {
  consumerTag: string;
  deliveryTag: number;
  redelivered: boolean;
  routingKey: string;
  body: string;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Polls `ready` until it is true, or throws after `ms` saying what was awaited. */
export async function waitUntil(ready: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * What Connection uses of Bun's socket, and no more (tsc checks these members against Socket;
 * setNoDelay is server.ts's call, not the connection's). `write` takes
 * at most `budget` bytes, as a socket whose kernel buffer is full takes only part of a write;
 * the harness then grants more and calls the connection's drain handler, as server.ts does.
 */
export class FakeSocket implements Pick<Socket<Connection>, "write" | "end" | "pause" | "resume"> {
  /** Bytes the socket still takes before it is "full" (Infinity: never). */
  budget = Number.POSITIVE_INFINITY;
  /** Bytes taken so far, in order. */
  taken = 0;
  /** write() calls that took less than offered. */
  shortWrites = 0;

  ended = false;
  paused = false;

  constructor(private readonly onBytes: (bytes: Uint8Array) => void) {}

  write(data: Parameters<Socket<Connection>["write"]>[0], byteOffset = 0, byteLength?: number): number {
    if (typeof data === "string") throw new Error("Connection writes bytes, not strings");
    const all = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
    const offered = byteLength ?? all.length - byteOffset;
    const n = Math.min(offered, this.budget);
    if (n < offered) this.shortWrites++;
    this.budget -= n;
    this.taken += n;
    // A copy: the connection reuses its output buffer once write() returns.
    if (n > 0) this.onBytes(all.slice(byteOffset, byteOffset + n));
    return n;
  }

  end(): number {
    this.ended = true;
    return 0;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }
}

/** A broker as main.ts starts it (one shard worker, a fresh temp data dir, no fsync), and the connections it serves. */
export class TestBroker {
  /** The server's connection set (server.ts hands its own to the broker the same way). */
  readonly connections = new Set<Connection>();
  private nextPort = 40_000;

  private constructor(
    readonly broker: Broker,
    readonly dataDir: string,
  ) {
    broker.connections = this.connections;
  }

  static async start(): Promise<TestBroker> {
    // The per-connection info lines would bury the test output; warnings still show.
    log.setLevel("warn");
    const dataDir = mkdtempSync(join(tmpdir(), "warren-core-"));
    const broker = new Broker();
    await broker.start({
      workers: 1,
      ring_bytes: 1 << 20,
      dataDir,
      fsync: "never",
      skipDamaged: false,
      indexSnapshotRecords: 0,
      queueWindowMessages: 64,
      queueWindow_bytes: 1 << 20,
      defaultUser: "guest",
      defaultPass: "guest",
    });
    return new TestBroker(broker, dataDir);
  }

  /** A connection as server.ts's open() makes one for an accepted socket. */
  connect(): ConnectionHarness {
    return new ConnectionHarness(this, `127.0.0.1:${this.nextPort++}`);
  }

  /** Workers terminated, data dir removed, log level back to its default. */
  stop(): void {
    for (const c of [...this.connections]) c.onClosed();
    this.broker.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    log.setLevel("info");
  }
}

/** Reassembles the broker's output into methods with their content, per channel. */
class OutputReader implements FrameSink {
  readonly byChannel = new Map<number, Received[]>();
  /** Every method in the order it was written, across channels. */
  readonly all: Received[] = [];
  private readonly parser = new FrameParser(this, 1 << 24);
  private readonly assembling = new Map<number, { received: Received; size: number; chunks: Uint8Array[]; have: number }>();

  constructor() {
    // The parser reads a client's stream, which opens with the protocol header; the broker's has none.
    this.parser.push(PROTOCOL_HEADER);
  }

  push(bytes: Uint8Array): void {
    this.parser.push(bytes);
  }

  onProtocolHeader(): void {}

  onFrame(type: number, channel: number, buf: Uint8Array, offset: number, length: number): void {
    if (type === FrameType.heartbeat) return;
    if (type === FrameType.method) {
      if (this.assembling.has(channel)) throw new Error(`method frame on channel ${channel} inside a content`);
      const method = decodeMethod(buf, offset, length);
      const received: Received = { channel, method };
      if (hasContent(method.name)) this.assembling.set(channel, { received, size: -1, chunks: [], have: 0 });
      else this.add(received);
      return;
    }
    const pending = this.assembling.get(channel);
    if (pending === undefined) throw new Error(`content frame (type ${type}) on channel ${channel} without a method`);
    if (type === FrameType.header) {
      const header = decodeContentHeader(buf, offset, length);
      if (header.classId !== ClassId.basic) throw new Error(`content header of class ${header.classId}`);
      pending.size = header.bodySize;
      pending.received.properties = decodeProperties(buf, header.propsOffset, header.propsLength);
    } else if (type === FrameType.body) {
      if (pending.size < 0) throw new Error(`body frame on channel ${channel} before its content header`);
      pending.chunks.push(buf.slice(offset, offset + length));
      pending.have += length;
    } else {
      throw new Error(`frame type ${type} from the broker`);
    }
    if (pending.size >= 0 && pending.have >= pending.size) {
      if (pending.have > pending.size) throw new Error(`body of ${pending.have} bytes, header said ${pending.size}`);
      const body = new Uint8Array(pending.size);
      let at = 0;
      for (const chunk of pending.chunks) {
        body.set(chunk, at);
        at += chunk.length;
      }
      pending.received.body = body;
      this.assembling.delete(channel);
      this.add(pending.received);
    }
  }

  private add(received: Received): void {
    this.all.push(received);
    let list = this.byChannel.get(received.channel);
    if (list === undefined) this.byChannel.set(received.channel, (list = []));
    list.push(received);
  }
}

function describeMethod(r: Received | undefined): string {
  if (r === undefined) return "nothing";
  const m = r.method;
  if (m.name === "connection.close" || m.name === "channel.close") return `${m.name} ${m.replyCode} "${m.replyText}" (${m.classId},${m.methodId})`;
  return m.name;
}

/** One client connection driven frame by frame. */
export class ConnectionHarness {
  readonly socket: FakeSocket;
  readonly connection: Connection;
  /** Times onGone ran (the connection left the server's set). */
  goneCalls = 0;
  private readonly output = new OutputReader();
  /** Per channel: how many of its received methods next() has handed out. */
  private readonly read = new Map<number, number>();
  private readonly writer = new FrameWriter(4096);
  private frameMax = LIMITS.frameMax_bytes;

  constructor(owner: TestBroker, peer: string) {
    this.socket = new FakeSocket((bytes) => this.output.push(bytes));
    const broker = owner.broker;
    // As server.ts's open(): authenticate against the broker, leave the set when gone.
    this.connection = new Connection(broker, this.socket as unknown as Socket<Connection>, peer, LIMITS,
      (user, password, from) => broker.authenticate(user, password, from),
      (c) => {
        this.goneCalls++;
        owner.connections.delete(c);
      });
    owner.connections.add(this.connection);
  }

  /** Every method received, in the order the broker wrote them. */
  get received(): readonly Received[] {
    return this.output.all;
  }

  // --- sending -------------------------------------------------------------------------------

  /** Client bytes, as the socket's data handler hands them over. */
  sendBytes(bytes: Uint8Array): void {
    this.connection.onData(bytes);
  }

  /** Encodes frames with `encode` and sends them as one chunk. */
  private sendFrames(encode: (w: FrameWriter) => void): void {
    encode(this.writer);
    this.sendBytes(this.writer.take().slice());
  }

  send(channel: number, method: Method): void {
    this.sendFrames((w) => w.methodFrame(channel, method));
  }

  /** A frame of any type with a raw payload. */
  sendFrame(type: number, channel: number, payload: Uint8Array): void {
    this.sendBytes(frameBytes(type, channel, payload));
  }

  /**
   * basic.publish with its content header and body frames, in one chunk, or in `chunks` chunks of
   * about equal size (frames split across socket reads).
   */
  publish(channel: number, routingKey: string, body: string | Uint8Array, options: { exchange?: string; properties?: BasicProperties; mandatory?: boolean; chunks?: number } = {}): void {
    const bytes = typeof body === "string" ? utf8.encode(body) : body;
    const w = this.writer;
    w.methodFrame(channel, { name: "basic.publish", exchange: options.exchange ?? "", routingKey, mandatory: options.mandatory ?? false, immediate: false });
    w.contentHeader(channel, ClassId.basic, bytes.length, encodeProperties(options.properties ?? {}));
    w.bodyFrames(channel, bytes, this.frameMax);
    const all = w.take().slice();
    const step = Math.ceil(all.length / (options.chunks ?? 1));
    for (let at = 0; at < all.length; at += step) this.sendBytes(all.slice(at, at + step));
  }

  // --- receiving -----------------------------------------------------------------------------

  /** Methods on `channel` not handed out by next() yet. */
  unread(channel: number): Received[] {
    return (this.output.byChannel.get(channel) ?? []).slice(this.read.get(channel) ?? 0);
  }

  /** The next method the broker sent on `channel`, in order; waits for it. */
  async next(channel: number, ms = WAIT_MS): Promise<Received> {
    await waitUntil(() => this.unread(channel).length > 0, `a method on channel ${channel}`, ms);
    const at = this.read.get(channel) ?? 0;
    this.read.set(channel, at + 1);
    return this.output.byChannel.get(channel)![at]!;
  }

  /** The next method on `channel` (1 unless given), which must be `name`. */
  async expect<N extends MethodName>(name: N, channel = 1): Promise<MethodOf<N>> {
    const r = await this.next(channel).catch((error: Error) => {
      throw new Error(`expected ${name} on channel ${channel}: ${error.message}`);
    });
    if (r.method.name !== name) throw new Error(`expected ${name} on channel ${channel}, got ${describeMethod(r)}`);
    return r.method as MethodOf<N>;
  }

  /** The next `count` methods on `channel`, which must be deliveries. */
  async deliveries(count: number, channel = 1): Promise<Delivery[]> {
    const out: Delivery[] = [];
    for (let i = 0; i < count; i++) {
      const r = await this.next(channel);
      if (r.method.name !== "basic.deliver") throw new Error(`expected basic.deliver ${i + 1} of ${count} on channel ${channel}, got ${describeMethod(r)}`);
      const m = r.method;
      out.push({ consumerTag: m.consumerTag, deliveryTag: m.deliveryTag, redelivered: m.redelivered, routingKey: m.routingKey, body: text.decode(r.body) });
    }
    return out;
  }

  /** The next method on `channel`: channel.close (or connection.close on channel 0), as the broker closed it. */
  async closedWith(channel = 0): Promise<CloseInfo> {
    const r = await this.next(channel);
    const m = r.method;
    const wanted = channel === 0 ? "connection.close" : "channel.close";
    if ((m.name !== "connection.close" && m.name !== "channel.close") || m.name !== wanted) throw new Error(`expected ${wanted} on channel ${channel}, got ${describeMethod(r)}`);
    return { replyCode: m.replyCode, replyText: m.replyText, classId: m.classId, methodId: m.methodId };
  }

  // --- conversations ---------------------------------------------------------------------------

  /** Protocol header, start-ok (PLAIN guest), tune-ok with the offered values, open "/": returns start and tune. */
  async handshake(options: { capabilities?: FieldTable } = {}): Promise<{ start: MethodOf<"connection.start">; tune: MethodOf<"connection.tune"> }> {
    this.sendBytes(PROTOCOL_HEADER);
    const start = await this.expect("connection.start", 0);
    this.send(0, {
      name: "connection.start-ok",
      clientProperties: { product: "connection_core test", capabilities: options.capabilities ?? {} },
      mechanism: "PLAIN",
      response: utf8.encode("\0guest\0guest"),
      locale: "en_US",
    });
    const tune = await this.expect("connection.tune", 0);
    this.frameMax = tune.frameMax;
    this.send(0, { name: "connection.tune-ok", channelMax: tune.channelMax, frameMax: tune.frameMax, heartbeat: 0 });
    this.send(0, { name: "connection.open", virtualHost: "/" });
    await this.expect("connection.open-ok", 0);
    return { start, tune };
  }

  async openChannel(channel: number): Promise<void> {
    this.send(channel, { name: "channel.open" });
    await this.expect("channel.open-ok", channel);
  }

  async declareQueue(channel: number, queue: string, options: { passive?: boolean; arguments?: FieldTable } = {}): Promise<MethodOf<"queue.declare-ok">> {
    this.send(channel, { name: "queue.declare", queue, passive: options.passive ?? false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: options.arguments ?? {} });
    return await this.expect("queue.declare-ok", channel);
  }

  async confirmSelect(channel: number): Promise<void> {
    this.send(channel, { name: "confirm.select", nowait: false });
    await this.expect("confirm.select-ok", channel);
  }

  async qos(channel: number, prefetchCount: number): Promise<void> {
    this.send(channel, { name: "basic.qos", prefetchSize: 0, prefetchCount, global: false });
    await this.expect("basic.qos-ok", channel);
  }

  async consume(channel: number, queue: string, options: { consumerTag?: string; noAck?: boolean } = {}): Promise<string> {
    this.send(channel, { name: "basic.consume", queue, consumerTag: options.consumerTag ?? "", noLocal: false, noAck: options.noAck ?? false, exclusive: false, nowait: false, arguments: {} });
    return (await this.expect("basic.consume-ok", channel)).consumerTag;
  }

  /** Confirmed publishes to the default exchange: one at a time, each awaited (the channel must be in confirm mode). */
  async publishConfirmed(channel: number, queue: string, bodies: readonly string[]): Promise<void> {
    for (const body of bodies) {
      this.publish(channel, queue, body);
      await this.expect("basic.ack", channel);
    }
  }

  // --- the socket ------------------------------------------------------------------------------

  /** From now on the socket takes at most `bytes` more before it is full. */
  throttle(bytes: number): void {
    this.socket.budget = bytes;
  }

  /** The socket takes `bytes` more (Infinity: all) and reports it can, as Bun's drain handler does. */
  drain(bytes = Number.POSITIVE_INFINITY): void {
    this.socket.budget = bytes;
    this.connection.onDrain();
  }

  /** The client went away (Bun's close handler): what a test left open is released. */
  closeSocket(): void {
    this.connection.onClosed();
  }
}
