// A small raw-socket AMQP 0-9-1 client for tests that must send what no real client library
// would: bad protocol headers, broken frames, methods out of order. It reads frames itself and
// uses Warren's own codec only to encode and decode well-formed methods (the codec has its own
// unit tests; interop with real clients is covered by the client-library tests).
import type { Socket } from "bun";
import { FRAME_END, FrameType } from "../../src/protocol/constants.ts";
import type { Method, MethodName, MethodOf } from "../../src/protocol/methods.ts";
import { decodeMethod } from "../../src/protocol/methods.ts";
import { encodeProperties, type BasicProperties } from "../../src/protocol/properties.ts";
import { encodeTable, type FieldTable } from "../../src/protocol/table.ts";
import { FrameWriter } from "../../src/protocol/writer.ts";

export const DEFAULT_TIMEOUT_MS = 3_000;
export const AMQP_091_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

export interface Frame {
  type: number;
  channel: number;
  payload: Uint8Array;
}

export interface CloseInfo {
  replyCode: number;
  replyText: string;
  classId: number;
  methodId: number;
}

export interface HandshakeOptions {
  user?: string;
  password?: string;
  mechanism?: "PLAIN" | "AMQPLAIN";
  vhost?: string;
  /** client-properties.capabilities, e.g. { authentication_failure_close: true }. */
  capabilities?: FieldTable;
  /** tune-ok values; each defaults to what the server offered in connection.tune. */
  channelMax?: number;
  frameMax?: number;
  heartbeat?: number;
}

export interface Tune {
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}

const utf8 = new TextEncoder();

/** A frame's bytes: type, channel, size, payload, frame-end (override `end` to break it). */
export function frameBytes(type: number, channel: number, payload: Uint8Array, end = FRAME_END): Uint8Array {
  const out = new Uint8Array(payload.length + 8);
  const view = new DataView(out.buffer);
  out[0] = type;
  view.setUint16(1, channel);
  view.setUint32(3, payload.length);
  out.set(payload, 7);
  out[7 + payload.length] = end;
  return out;
}

/** The payload of a well-formed method frame (class id, method id, arguments). */
export function methodPayload(method: Method): Uint8Array {
  const w = new FrameWriter(256);
  w.methodFrame(0, method);
  const frame = w.take();
  return frame.slice(7, frame.length - 1);
}

/** A content header payload: class id, weight, body size, property flags and values. */
export function contentHeaderPayload(bodySize: number | bigint, props: BasicProperties = {}, classId = 60): Uint8Array {
  const raw = encodeProperties(props);
  const out = new Uint8Array(12 + raw.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, classId);
  view.setUint16(2, 0);
  view.setBigUint64(4, BigInt(bodySize));
  out.set(raw, 12);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class RawAmqp {
  /** Every byte received and not yet consumed as a frame or by readBytes(). */
  private inbox = new Uint8Array(0);
  private closedFlag = false;
  /** Waiters for the next data, drain or close event. */
  private readonly waiters = new Set<() => void>();
  private socket: Socket<undefined> | null = null;
  private readonly unsent: Uint8Array[] = [];
  /** Set by handshake(): what the server offered. */
  tune: Tune | null = null;

  private constructor() {}

  static async connect(port: number, host = "127.0.0.1"): Promise<RawAmqp> {
    const client = new RawAmqp();
    client.socket = await Bun.connect<undefined>({
      hostname: host,
      port,
      socket: {
        data(_socket, chunk) {
          client.received(chunk);
        },
        drain() {
          client.onDrain();
        },
        close() {
          client.onClose();
        },
        end() {
          client.onClose();
        },
        error() {
          client.onClose();
        },
      },
    });
    return client;
  }

  /** Connects and completes the handshake (header, start-ok, tune-ok, open). */
  static async open(port: number, options: HandshakeOptions = {}): Promise<RawAmqp> {
    const client = await RawAmqp.connect(port);
    await client.handshake(options);
    return client;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  private received(chunk: Uint8Array): void {
    const grown = new Uint8Array(this.inbox.length + chunk.length);
    grown.set(this.inbox);
    grown.set(chunk, this.inbox.length);
    this.inbox = grown;
    this.notify();
  }

  private onClose(): void {
    this.closedFlag = true;
    this.notify();
  }

  private notify(): void {
    const woken = [...this.waiters];
    this.waiters.clear();
    for (const wake of woken) wake();
  }

  /** Resolves at the next data or close event, or rejects after the deadline. */
  private async nextEvent(deadline_ms: number, what: string): Promise<void> {
    const left = deadline_ms - Date.now();
    if (left <= 0) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        reject(new Error(`timed out waiting for ${what}`));
      }, left);
      this.waiters.add(wake);
    });
  }

  // --- output ----------------------------------------------------------------------------------

  /**
   * Queues bytes for the socket. What the kernel does not take now is written on drain, in
   * order; once the server has closed the socket, writes are dropped (a test that provoked the
   * close may still be sending).
   */
  write(bytes: Uint8Array | string): void {
    const data = typeof bytes === "string" ? utf8.encode(bytes) : bytes;
    if (this.socket === null || this.closedFlag) return;
    if (this.unsent.length > 0) {
      this.unsent.push(data.slice());
      return;
    }
    const written = this.socket.write(data);
    if (written >= 0 && written < data.length) this.unsent.push(data.slice(written));
  }

  /** Resolves once every queued byte has been handed to the kernel (or the socket closed). */
  async flushed(timeout_ms = DEFAULT_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    while (this.unsent.length > 0 && !this.closedFlag) await this.nextEvent(deadline, "the socket to drain");
  }

  private onDrain(): void {
    while (this.unsent.length > 0 && this.socket !== null && !this.closedFlag) {
      const head = this.unsent[0]!;
      const written = this.socket.write(head);
      if (written < 0) return;
      if (written < head.length) {
        this.unsent[0] = head.subarray(written);
        return;
      }
      this.unsent.shift();
    }
    this.notify();
  }

  sendFrame(type: number, channel: number, payload: Uint8Array): void {
    this.write(frameBytes(type, channel, payload));
  }

  sendMethod(channel: number, method: Method): void {
    this.sendFrame(FrameType.method, channel, methodPayload(method));
  }

  /** basic.publish + content header + one body frame per `bodyFrames` chunk. */
  publish(channel: number, exchange: string, routingKey: string, body: string | Uint8Array, props: BasicProperties = {}): void {
    const bytes = typeof body === "string" ? utf8.encode(body) : body;
    const parts = [
      frameBytes(FrameType.method, channel, methodPayload({ name: "basic.publish", exchange, routingKey, mandatory: false, immediate: false })),
      frameBytes(FrameType.header, channel, contentHeaderPayload(bytes.length, props)),
    ];
    if (bytes.length > 0) parts.push(frameBytes(FrameType.body, channel, bytes));
    this.write(concat(...parts));
  }

  /** Ends our side of the socket (FIN) without connection.close. */
  end(): void {
    this.socket?.end();
  }

  /** connection.close if the connection is still up, then the socket end; never throws. */
  async close(): Promise<void> {
    if (!this.closedFlag) {
      try {
        this.sendMethod(0, { name: "connection.close", replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
        await this.expectMethod(0, "connection.close-ok", 1_000);
      } catch {
        // The broker may already have closed it; the socket end below is what matters.
      }
    }
    this.socket?.end();
  }

  // --- input -----------------------------------------------------------------------------------

  /** Exactly n raw bytes (e.g. the protocol header a server answers a bad header with). */
  async readBytes(n: number, timeout_ms = DEFAULT_TIMEOUT_MS): Promise<Uint8Array> {
    const deadline = Date.now() + timeout_ms;
    while (this.inbox.length < n) {
      if (this.closedFlag) throw new Error(`socket closed after ${this.inbox.length} of ${n} bytes`);
      await this.nextEvent(deadline, `${n} bytes`);
    }
    const out = this.inbox.slice(0, n);
    this.inbox = this.inbox.slice(n);
    return out;
  }

  /** The next frame, heartbeats included; throws if the socket closes first or on timeout. */
  async readFrame(timeout_ms = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const frame = this.takeFrame();
      if (frame !== null) return frame;
      if (this.closedFlag) throw new Error("socket closed while waiting for a frame");
      await this.nextEvent(deadline, "a frame");
    }
  }

  private takeFrame(): Frame | null {
    const buf = this.inbox;
    if (buf.length < 7) return null;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const size = view.getUint32(3);
    if (buf.length < size + 8) return null;
    const end = buf[7 + size];
    if (end !== FRAME_END) throw new Error(`server sent a frame with frame-end ${end}`);
    const frame = { type: buf[0]!, channel: view.getUint16(1), payload: buf.slice(7, 7 + size) };
    this.inbox = buf.slice(size + 8);
    return frame;
  }

  /** The next method frame (heartbeats skipped), decoded. */
  async readMethod(timeout_ms = DEFAULT_TIMEOUT_MS): Promise<{ channel: number; method: Method }> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const frame = await this.readFrame(Math.max(1, deadline - Date.now()));
      if (frame.type === FrameType.heartbeat) continue;
      if (frame.type !== FrameType.method) throw new Error(`expected a method frame, got frame type ${frame.type} on channel ${frame.channel}`);
      return { channel: frame.channel, method: decodeMethod(frame.payload, 0, frame.payload.length) };
    }
  }

  /** The next method, which must be `name` on `channel`. */
  async expectMethod<N extends MethodName>(channel: number, name: N, timeout_ms = DEFAULT_TIMEOUT_MS): Promise<MethodOf<N>> {
    const got = await this.readMethod(timeout_ms);
    if (got.channel !== channel || got.method.name !== name) {
      throw new Error(`expected ${name} on channel ${channel}, got ${describe(got.method)} on channel ${got.channel}`);
    }
    return got.method as MethodOf<N>;
  }

  /** Waits for connection.close (skipping other frames), answers close-ok, returns its fields. */
  async expectConnectionClose(timeout_ms = DEFAULT_TIMEOUT_MS): Promise<CloseInfo> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const { channel, method } = await this.readMethod(Math.max(1, deadline - Date.now()));
      if (channel === 0 && method.name === "connection.close") {
        this.sendMethod(0, { name: "connection.close-ok" });
        return { replyCode: method.replyCode, replyText: method.replyText, classId: method.classId, methodId: method.methodId };
      }
    }
  }

  /** Waits for channel.close on `channel` (skipping other frames), answers close-ok. */
  async expectChannelClose(channel: number, timeout_ms = DEFAULT_TIMEOUT_MS): Promise<CloseInfo> {
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      const got = await this.readMethod(Math.max(1, deadline - Date.now()));
      if (got.channel === 0 && got.method.name === "connection.close") {
        throw new Error(`expected channel.close on ${channel}, got connection.close ${got.method.replyCode} ${got.method.replyText}`);
      }
      if (got.channel === channel && got.method.name === "channel.close") {
        const m = got.method;
        this.sendMethod(channel, { name: "channel.close-ok" });
        return { replyCode: m.replyCode, replyText: m.replyText, classId: m.classId, methodId: m.methodId };
      }
    }
  }

  /** Resolves once the server has closed the socket; returns the bytes it sent meanwhile. */
  async waitClosed(timeout_ms = DEFAULT_TIMEOUT_MS): Promise<Uint8Array> {
    const deadline = Date.now() + timeout_ms;
    while (!this.closedFlag) await this.nextEvent(deadline, "the server to close the socket");
    const rest = this.inbox;
    this.inbox = new Uint8Array(0);
    return rest;
  }

  // --- handshake -------------------------------------------------------------------------------

  /** Protocol header → start → start-ok → tune → tune-ok → open → open-ok. */
  async handshake(options: HandshakeOptions = {}): Promise<void> {
    await this.startHandshake(options);
    this.finishHandshake(options);
    await this.expectMethod(0, "connection.open-ok");
  }

  /** Header, start, start-ok, and waits for connection.tune (stored in `tune`). */
  async startHandshake(options: HandshakeOptions = {}): Promise<Tune> {
    this.write(AMQP_091_HEADER);
    const start = await this.expectMethod(0, "connection.start");
    const mechanism = options.mechanism ?? "PLAIN";
    if (!start.mechanisms.split(" ").includes(mechanism)) throw new Error(`server does not offer ${mechanism}: ${start.mechanisms}`);
    this.sendStartOk(options);
    const tune = await this.expectMethod(0, "connection.tune");
    this.tune = { channelMax: tune.channelMax, frameMax: tune.frameMax, heartbeat: tune.heartbeat };
    return this.tune;
  }

  sendStartOk(options: HandshakeOptions = {}): void {
    const user = options.user ?? "guest";
    const password = options.password ?? "guest";
    const mechanism = options.mechanism ?? "PLAIN";
    const response = mechanism === "PLAIN"
      ? utf8.encode(`\0${user}\0${password}`)
      : encodeTable({ LOGIN: user, PASSWORD: password });
    this.sendMethod(0, {
      name: "connection.start-ok",
      clientProperties: { product: "warren raw test client", capabilities: options.capabilities ?? {} },
      mechanism,
      response,
      locale: "en_US",
    });
  }

  /** tune-ok (server's values unless overridden) and connection.open; does not wait for open-ok. */
  finishHandshake(options: HandshakeOptions = {}): void {
    const tune = this.tune;
    if (tune === null) throw new Error("finishHandshake before connection.tune");
    this.sendMethod(0, {
      name: "connection.tune-ok",
      channelMax: options.channelMax ?? tune.channelMax,
      frameMax: options.frameMax ?? tune.frameMax,
      heartbeat: options.heartbeat ?? 0,
    });
    this.sendMethod(0, { name: "connection.open", virtualHost: options.vhost ?? "/" });
  }

  /** channel.open and its open-ok. */
  async openChannel(channel: number): Promise<void> {
    this.sendMethod(channel, { name: "channel.open" });
    await this.expectMethod(channel, "channel.open-ok");
  }

  /** The content header and body frames that follow a deliver / get-ok: the whole body. */
  async readContent(channel: number, timeout_ms = DEFAULT_TIMEOUT_MS): Promise<Uint8Array> {
    const deadline = Date.now() + timeout_ms;
    const header = await this.readFrame(timeout_ms);
    if (header.type !== FrameType.header || header.channel !== channel) {
      throw new Error(`expected a content header on channel ${channel}, got frame type ${header.type} on channel ${header.channel}`);
    }
    const size = Number(new DataView(header.payload.buffer, header.payload.byteOffset).getBigUint64(4));
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < size) {
      const body = await this.readFrame(Math.max(1, deadline - Date.now()));
      if (body.type !== FrameType.body || body.channel !== channel) {
        throw new Error(`expected a body frame on channel ${channel}, got frame type ${body.type} on channel ${body.channel}`);
      }
      parts.push(body.payload);
      got += body.payload.length;
    }
    return concat(...parts);
  }
}

/**
 * A well-behaved connection kept open for a whole test file: after each piece of bad input,
 * roundTrip() proves the broker still accepts a publish and hands the message back.
 */
export class HealthProbe {
  private count = 0;

  private constructor(
    private readonly client: RawAmqp,
    readonly queue: string,
  ) {}

  static async open(port: number, queue: string): Promise<HealthProbe> {
    const client = await RawAmqp.open(port);
    await client.openChannel(1);
    client.sendMethod(1, { name: "queue.declare", queue, passive: false, durable: false, exclusive: false, autoDelete: false, nowait: false, arguments: {} });
    await client.expectMethod(1, "queue.declare-ok");
    client.sendMethod(1, { name: "queue.purge", queue, nowait: false });
    await client.expectMethod(1, "queue.purge-ok");
    return new HealthProbe(client, queue);
  }

  /** Publishes a fresh body to the probe's queue and gets it back with basic.get; returns it. */
  async roundTrip(timeout_ms = DEFAULT_TIMEOUT_MS): Promise<string> {
    const body = `probe ${++this.count}`;
    this.client.publish(1, "", this.queue, body);
    this.client.sendMethod(1, { name: "basic.get", queue: this.queue, noAck: true });
    const reply = await this.client.readMethod(timeout_ms);
    if (reply.channel !== 1 || reply.method.name !== "basic.get-ok") {
      throw new Error(`health probe: expected basic.get-ok, got ${describe(reply.method)} on channel ${reply.channel}`);
    }
    const got = new TextDecoder().decode(await this.client.readContent(1, timeout_ms));
    if (got !== body) throw new Error(`health probe: sent '${body}', got '${got}'`);
    return got;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function describe(m: Method): string {
  if (m.name === "connection.close" || m.name === "channel.close") return `${m.name} ${m.replyCode} ${m.replyText}`;
  return m.name;
}
