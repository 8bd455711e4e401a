// The load generator's AMQP 0-9-1 client over a raw Bun socket. Control methods (handshake,
// declares, consume) go through Warren's codec because they are rare; the hot paths are
// hand-rolled and allocate nothing per message:
//   - publishes are copied from pre-encoded frames into one transmit buffer and written with one
//     socket.write per burst; Bun does not buffer, so an unwritten tail stays and goes on drain;
//   - deliveries are parsed in place from the receive buffer and handed to a DeliverySink as
//     numbers read from the body's stamp;
//   - acks are 21-byte frames written straight into the transmit buffer;
//   - publisher confirms settle a ConfirmWindow.
import type { Socket } from "bun";
import { decodeMethod, type Method, type MethodName, type MethodOf } from "../src/protocol/methods.ts";
import { FrameWriter } from "../src/protocol/writer.ts";

const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_HEARTBEAT = 8;
const FRAME_END = 0xce;
const FRAME_HEADER_BYTES = 7;
const FRAME_OVERHEAD_BYTES = 8;
const CLASS_CONNECTION = 10;
const CLASS_BASIC = 60;
const BASIC_PUBLISH = 40;
const BASIC_RETURN = 50;
const BASIC_DELIVER = 60;
const BASIC_ACK = 80;
const BASIC_NACK = 120;
const CONNECTION_BLOCKED = 60;
const CONNECTION_UNBLOCKED = 61;
const TWO_POW_32 = 4294967296;
/** delivery-mode is property bit 12 of the basic class. */
const PROPERTY_FLAG_DELIVERY_MODE = 0x1000;
const ACK_FRAME_BYTES = 21;
const RING_SPAN_FACTOR = 4;
const PROTOCOL_HEADER = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** Every body starts with this stamp: producer u32, sequence u32, send time in ns as u32 hi + u32 lo. */
const STAMP_BYTES = 16;

/** A control method that gets no answer within this is a failure (a 1M-message queue.delete included). */
const CALL_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;
const TX_INITIAL_BYTES = 1 << 20;
/** The transmit buffer never grows past this: producers stop composing long before. */
const TX_MAX_BYTES = 256 << 20;
const RX_INITIAL_BYTES = 1 << 16;
/** The largest frame-max this client accepts (RabbitMQ and Warren offer 128 KiB). */
const FRAME_MAX_LIMIT_BYTES = 1 << 20;
const CHANNEL_MAX = 2047;

export interface BrokerUrl {
  host: string;
  port: number;
  user: string;
  password: string;
  vhost: string;
}

/** amqp://user:pass@host:port/vhost; an empty path means the vhost "/", as most clients read it. */
export function parseAmqpUrl(text: string): BrokerUrl {
  const url = new URL(text);
  if (url.protocol !== "amqp:") throw new Error(`only amqp:// URLs are supported, got ${text}`);
  const path = url.pathname.replace(/^\//, "");
  return {
    host: url.hostname === "" ? "127.0.0.1" : url.hostname,
    port: url.port === "" ? 5672 : Number(url.port),
    user: url.username === "" ? "guest" : decodeURIComponent(url.username),
    password: url.password === "" ? "guest" : decodeURIComponent(url.password),
    vhost: path === "" ? "/" : decodeURIComponent(path),
  };
}

/** Told about every complete delivery on a consuming channel. */
export interface DeliverySink {
  onDelivery(producer: number, seq: number, latency_ns: number, deliveryTag: number, redelivered: boolean): void;
}

/**
 * Publisher confirms of one channel: which of the outstanding delivery tags are settled. Tags
 * (low, published] are outstanding; a ring of flags marks the ones settled out of order (RabbitMQ
 * confirms single tags out of order, e.g. persistent messages consumed before they reach disk).
 */
export class ConfirmWindow {
  /** Tags <= low are settled. */
  low = 0;
  /** The highest tag sent (tags count publishes from 1 after confirm.select). */
  published = 0;
  acked = 0;
  nacked = 0;
  /** Confirms for tags never published or already settled: a broker bug if ever non-zero. */
  bogus = 0;
  private readonly flags: Uint8Array;
  private readonly mask: number;

  constructor(readonly window: number) {
    // Room for the span (low, published] to outgrow the window a little while out-of-order
    // confirms keep the unconfirmed count under it.
    let size = 1;
    while (size < window * RING_SPAN_FACTOR) size *= 2;
    this.flags = new Uint8Array(size);
    this.mask = size - 1;
  }

  get outstanding(): number {
    return this.published - this.low - this.flaggedAhead;
  }

  /** Publishes allowed now: unconfirmed stays within the window, the span within the ring. */
  get available(): number {
    return Math.min(this.window - this.outstanding, this.flags.length - (this.published - this.low));
  }

  get settled(): number {
    return this.acked + this.nacked;
  }

  /** Tags above low settled out of order (kept so outstanding is exact). */
  private flaggedAhead = 0;

  settle(tag: number, multiple: boolean, ack: boolean): void {
    if (tag > this.published || (!multiple && tag <= this.low)) {
      this.bogus++;
      return;
    }
    const flags = this.flags;
    const mask = this.mask;
    if (multiple) {
      let fresh = 0;
      for (let t = this.low + 1; t <= tag; t++) {
        if (flags[t & mask] === 0) fresh++;
        else {
          flags[t & mask] = 0;
          this.flaggedAhead--;
        }
      }
      if (tag > this.low) this.low = tag;
      if (ack) this.acked += fresh;
      else this.nacked += fresh;
    } else {
      if (flags[tag & mask] !== 0) {
        this.bogus++;
        return;
      }
      flags[tag & mask] = 1;
      this.flaggedAhead++;
      if (ack) this.acked++;
      else this.nacked++;
    }
    while (this.low < this.published && flags[(this.low + 1) & mask] !== 0) {
      this.low++;
      flags[this.low & mask] = 0;
      this.flaggedAhead--;
    }
  }
}

/**
 * Pre-encoded basic.publish + content header + body frames, one variant per routing key, back
 * to back in one buffer. Publishing copies a variant and patches the stamp at stampAt.
 */
export class PublishFrames {
  readonly bytes: Uint8Array;
  /** starts[i]..starts[i+1] are variant i's bytes. */
  readonly starts: Uint32Array;
  /** Offset of the stamp inside each variant (the first body frame's payload). */
  readonly stampAt: Uint32Array;
  readonly variants: number;
  /** The largest variant, for burst sizing. */
  readonly maxVariant_bytes: number;
  /** One view per variant, made once so that publishing allocates nothing. */
  readonly views: Uint8Array[] = [];

  constructor(channel: number, exchange: string, routingKeys: readonly string[], body_bytes: number, deliveryMode: 1 | 2, frameMax_bytes: number) {
    if (body_bytes < STAMP_BYTES) throw new Error(`bodies must have at least ${STAMP_BYTES} bytes for the stamp`);
    if (routingKeys.length === 0) throw new Error("at least one routing key");
    const utf8 = new TextEncoder();
    const exchangeBytes = utf8.encode(exchange);
    const chunk_bytes = frameMax_bytes - FRAME_OVERHEAD_BYTES;
    const bodyFrames = Math.ceil(body_bytes / chunk_bytes);
    const keys = routingKeys.map((k) => utf8.encode(k));
    for (const k of [exchangeBytes, ...keys]) if (k.length > 255) throw new Error("shortstr longer than 255 bytes");
    const sizeOf = (key: Uint8Array) =>
      (FRAME_OVERHEAD_BYTES + 4 + 2 + 1 + exchangeBytes.length + 1 + key.length + 1) + // method
      (FRAME_OVERHEAD_BYTES + 12 + 2 + 1) + // header: class, weight, size, flags, delivery-mode
      (bodyFrames * FRAME_OVERHEAD_BYTES + body_bytes);
    let total = 0;
    let largest = 0;
    for (const k of keys) {
      total += sizeOf(k);
      largest = Math.max(largest, sizeOf(k));
    }
    this.bytes = new Uint8Array(total);
    this.starts = new Uint32Array(keys.length + 1);
    this.stampAt = new Uint32Array(keys.length);
    this.variants = keys.length;
    this.maxVariant_bytes = largest;
    const b = this.bytes;
    let p = 0;
    const frameHeader = (type: number, size: number) => {
      b[p] = type;
      b[p + 1] = channel >>> 8;
      b[p + 2] = channel & 0xff;
      writeU32(b, p + 3, size);
      p += FRAME_HEADER_BYTES;
    };
    keys.forEach((key, i) => {
      const start = p;
      this.starts[i] = start;
      frameHeader(FRAME_METHOD, 4 + 2 + 1 + exchangeBytes.length + 1 + key.length + 1);
      writeU16(b, p, CLASS_BASIC);
      writeU16(b, p + 2, BASIC_PUBLISH);
      writeU16(b, p + 4, 0); // ticket
      p += 6;
      b[p++] = exchangeBytes.length;
      b.set(exchangeBytes, p);
      p += exchangeBytes.length;
      b[p++] = key.length;
      b.set(key, p);
      p += key.length;
      b[p++] = 0; // mandatory, immediate
      b[p++] = FRAME_END;
      frameHeader(FRAME_HEADER, 12 + 2 + 1);
      writeU16(b, p, CLASS_BASIC);
      writeU16(b, p + 2, 0); // weight
      writeU32(b, p + 4, Math.floor(body_bytes / TWO_POW_32));
      writeU32(b, p + 8, body_bytes >>> 0);
      writeU16(b, p + 12, PROPERTY_FLAG_DELIVERY_MODE);
      b[p + 14] = deliveryMode;
      p += 15;
      b[p++] = FRAME_END;
      for (let off = 0; off < body_bytes; off += chunk_bytes) {
        const size = Math.min(chunk_bytes, body_bytes - off);
        frameHeader(FRAME_BODY, size);
        if (off === 0) this.stampAt[i] = p - start;
        // The body bytes after the stamp are a fixed pattern: compressible data is not the point.
        for (let j = 0; j < size; j++) b[p + j] = (off + j) & 0xff;
        p += size;
        b[p++] = FRAME_END;
      }
    });
    this.starts[keys.length] = p;
    for (let i = 0; i < keys.length; i++) this.views.push(b.subarray(this.starts[i]!, this.starts[i + 1]!));
  }
}

interface Pending {
  expect: MethodName;
  resolve: (method: Method) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Per-channel receive state: the content being assembled and who consumes it. */
class ChannelState {
  sink: DeliverySink | null = null;
  confirms: ConfirmWindow | null = null;
  pending: Pending[] = [];
  /** 0 = no content expected, 1 = a delivery's content, 2 = content to skip (a basic.return). */
  content = 0;
  deliveryTag = 0;
  redelivered = false;
  body_remaining = 0;
  stamped = false;
  producer = 0;
  seq = 0;
  sent_ns = 0;
}

interface ClientCounters {
  returned: number;
  blocked: number;
  unblocked: number;
  cancelledByBroker: number;
}

/**
 * Splits a byte stream into frames, handing each to onFrame in place; only a frame split across
 * chunks is copied (into one reusable buffer). Shared by the client and the ceiling's sink.
 */
export class FrameSplitter {
  private assembly = new Uint8Array(RX_INITIAL_BYTES);
  private assembled_bytes = 0;

  constructor(
    private readonly onFrame: (type: number, channel: number, buf: Uint8Array, offset: number, size: number) => void,
    private readonly frameMax_bytes: number,
  ) {}

  push(chunk: Uint8Array, from: number): void {
    let pos = from;
    const n = chunk.length;
    if (this.assembled_bytes > 0) {
      pos = this.gather(chunk, pos);
      if (this.assembled_bytes > 0) return; // still incomplete: chunk used up
    }
    while (n - pos >= FRAME_HEADER_BYTES) {
      const size = readU32(chunk, pos + 3);
      if (size > this.frameMax_bytes) throw new Error(`frame of ${size} bytes exceeds frame-max ${this.frameMax_bytes}`);
      const end = pos + FRAME_HEADER_BYTES + size;
      if (end >= n) break;
      if (chunk[end] !== FRAME_END) throw new Error(`bad frame-end octet ${chunk[end]}`);
      this.onFrame(chunk[pos]!, (chunk[pos + 1]! << 8) | chunk[pos + 2]!, chunk, pos + FRAME_HEADER_BYTES, size);
      pos = end + 1;
    }
    if (pos < n) this.gather(chunk, pos);
  }

  /** Copies bytes of a split frame; delivers it when complete. Returns the new position in chunk. */
  private gather(chunk: Uint8Array, pos: number): number {
    const a = this.assembly;
    if (this.assembled_bytes < FRAME_HEADER_BYTES) {
      const take = Math.min(FRAME_HEADER_BYTES - this.assembled_bytes, chunk.length - pos);
      for (let i = 0; i < take; i++) a[this.assembled_bytes + i] = chunk[pos + i]!;
      this.assembled_bytes += take;
      pos += take;
      if (this.assembled_bytes < FRAME_HEADER_BYTES) return pos;
    }
    const size = readU32(this.assembly, 3);
    if (size > this.frameMax_bytes) throw new Error(`frame of ${size} bytes exceeds frame-max ${this.frameMax_bytes}`);
    const total = size + FRAME_OVERHEAD_BYTES;
    if (total > this.assembly.length) {
      const grown = new Uint8Array(total);
      grown.set(this.assembly.subarray(0, this.assembled_bytes));
      this.assembly = grown;
    }
    const take = Math.min(total - this.assembled_bytes, chunk.length - pos);
    this.assembly.set(chunk.subarray(pos, pos + take), this.assembled_bytes);
    this.assembled_bytes += take;
    pos += take;
    if (this.assembled_bytes === total) {
      const f = this.assembly;
      this.assembled_bytes = 0;
      if (f[total - 1] !== FRAME_END) throw new Error(`bad frame-end octet ${f[total - 1]}`);
      this.onFrame(f[0]!, (f[1]! << 8) | f[2]!, f, FRAME_HEADER_BYTES, size);
    }
    return pos;
  }
}

/** A byte buffer written to a Bun socket in as few writes as possible, keeping what the kernel refused. */
export class TxBuffer {
  buf = new Uint8Array(TX_INITIAL_BYTES);
  start = 0;
  end = 0;
  /** True after a partial write, until drain. */
  backpressured = false;

  get pending_bytes(): number {
    return this.end - this.start;
  }

  /** Makes room for n more bytes at end; returns the offset to write at. */
  reserve(n: number): number {
    if (this.end + n <= this.buf.length) return this.end;
    const live = this.end - this.start;
    if (live + n <= this.buf.length && this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      let size = this.buf.length * 2;
      while (size < live + n) size *= 2;
      if (size > TX_MAX_BYTES) throw new Error(`transmit buffer would grow past ${TX_MAX_BYTES} bytes`);
      const grown = new Uint8Array(size);
      grown.set(this.buf.subarray(this.start, this.end));
      this.buf = grown;
    }
    this.start = 0;
    this.end = live;
    return this.end;
  }

  append(bytes: Uint8Array, from: number, to: number): number {
    const at = this.reserve(to - from);
    this.buf.set(bytes.subarray(from, to), at);
    this.end = at + (to - from);
    return at;
  }

  /** One write of everything pending; a partial write leaves the rest for drain. */
  flush(socket: Socket<unknown>): void {
    if (this.backpressured || this.end === this.start) return;
    const want = this.end - this.start;
    const wrote = socket.write(this.buf, this.start, want);
    if (wrote >= want) {
      this.start = 0;
      this.end = 0;
    } else {
      this.start += Math.max(wrote, 0);
      this.backpressured = true;
    }
  }
}

export class AmqpClient {
  readonly tx = new TxBuffer();
  readonly counters: ClientCounters = { returned: 0, blocked: 0, unblocked: 0, cancelledByBroker: 0 };
  frameMax_bytes = 131072;
  channelMax = CHANNEL_MAX;
  /** server-properties.product from connection.start (e.g. "RabbitMQ"). */
  serverProduct = "";
  /** Set once the socket closed or the broker closed the connection; every later call fails with it. */
  failure: Error | null = null;
  /** Called after each received chunk that settled confirms (producers may publish again). */
  onConfirmProgress: (() => void) | null = null;
  /** Called when the socket can take more after a partial write. */
  onWritable: (() => void) | null = null;

  private socket: Socket<unknown> | null = null;
  private readonly channels: (ChannelState | undefined)[] = [];
  private readonly writer = new FrameWriter(4096);
  private readonly splitter: FrameSplitter;
  private now_ns = 0;
  private confirmsSeen = false;
  private closing = false;
  private nextChannel = 1;

  private constructor(readonly name: string) {
    this.splitter = new FrameSplitter((type, channel, buf, offset, size) => this.onFrame(type, channel, buf, offset, size), FRAME_MAX_LIMIT_BYTES);
    this.channels[0] = new ChannelState();
  }

  static async connect(url: BrokerUrl, name: string): Promise<AmqpClient> {
    const client = new AmqpClient(name);
    const connectTimer = setTimeout(() => client.fail(new Error(`${name}: connect timed out`)), CONNECT_TIMEOUT_MS);
    try {
      const started = client.expect(0, "connection.start");
      // Awaited below; until then a failed connect must not count as an unhandled rejection.
      started.catch(() => {});
      client.socket = await Bun.connect({
        hostname: url.host,
        port: url.port,
        socket: {
          open(socket) {
            socket.setNoDelay(true);
            socket.write(PROTOCOL_HEADER);
          },
          data(_socket, chunk) {
            client.onData(chunk);
          },
          drain(socket) {
            client.tx.backpressured = false;
            client.tx.flush(socket);
            if (!client.tx.backpressured) client.onWritable?.();
          },
          close() {
            client.fail(new Error(`${name}: connection closed by peer`));
          },
          error(_socket, error) {
            client.fail(new Error(`${name}: socket error: ${error.message}`));
          },
        },
      });
      const start = await started;
      const product = start.serverProperties["product"];
      client.serverProduct = typeof product === "string" ? product : "";
      if (!start.mechanisms.split(" ").includes("PLAIN")) throw new Error(`${name}: broker offers no PLAIN mechanism`);
      const tuned = client.expect(0, "connection.tune");
      client.send(0, {
        name: "connection.start-ok",
        clientProperties: {
          product: "warren-bench",
          capabilities: { "connection.blocked": true, consumer_cancel_notify: true, publisher_confirms: true, authentication_failure_close: true },
        },
        mechanism: "PLAIN",
        response: new TextEncoder().encode(`\0${url.user}\0${url.password}`),
        locale: "en_US",
      });
      const tune = await tuned;
      client.frameMax_bytes = tune.frameMax === 0 ? FRAME_MAX_LIMIT_BYTES : Math.min(tune.frameMax, FRAME_MAX_LIMIT_BYTES);
      client.channelMax = tune.channelMax === 0 ? CHANNEL_MAX : Math.min(tune.channelMax, CHANNEL_MAX);
      // Heartbeats off: a loaded broker must not drop the generator for a late heartbeat.
      client.send(0, { name: "connection.tune-ok", channelMax: client.channelMax, frameMax: client.frameMax_bytes, heartbeat: 0 });
      await client.call(0, { name: "connection.open", virtualHost: url.vhost }, "connection.open-ok");
      return client;
    } catch (error) {
      client.destroy();
      throw new Error(`${name}: cannot open a connection to ${url.host}:${url.port}: ${(error as Error).message}`);
    } finally {
      clearTimeout(connectTimer);
    }
  }

  /** Opens a fresh channel; returns its number. */
  async openChannel(): Promise<number> {
    const channel = this.nextChannel++;
    if (channel > this.channelMax) throw new Error(`${this.name}: out of channels`);
    this.channels[channel] = new ChannelState();
    await this.call(channel, { name: "channel.open" }, "channel.open-ok");
    return channel;
  }

  async confirmSelect(channel: number, window: number): Promise<ConfirmWindow> {
    await this.call(channel, { name: "confirm.select", nowait: false }, "confirm.select-ok");
    const confirms = new ConfirmWindow(window);
    this.state(channel).confirms = confirms;
    return confirms;
  }

  /** basic.qos then basic.consume (manual ack); deliveries go to sink. */
  async consume(channel: number, queue: string, prefetch: number, sink: DeliverySink): Promise<string> {
    await this.call(channel, { name: "basic.qos", prefetchSize: 0, prefetchCount: prefetch, global: false }, "basic.qos-ok");
    this.state(channel).sink = sink;
    const ok = await this.call(channel, {
      name: "basic.consume", queue, consumerTag: "", noLocal: false, noAck: false, exclusive: false, nowait: false, arguments: {},
    }, "basic.consume-ok");
    return ok.consumerTag;
  }

  /** Sends a method and waits for the named answer on the same channel (answers come in order). */
  call<N extends MethodName>(channel: number, method: Method, expect: N): Promise<MethodOf<N>> {
    const answer = this.expect(channel, expect);
    this.send(channel, method);
    return answer;
  }

  /** basic.ack multiple=true up to tag, written into the transmit buffer (sent at the next flush). */
  ackMultiple(channel: number, tag: number): void {
    const tx = this.tx;
    const p = tx.reserve(ACK_FRAME_BYTES);
    const b = tx.buf;
    b[p] = FRAME_METHOD;
    b[p + 1] = channel >>> 8;
    b[p + 2] = channel & 0xff;
    writeU32(b, p + 3, 13);
    writeU16(b, p + 7, CLASS_BASIC);
    writeU16(b, p + 9, BASIC_ACK);
    writeU32(b, p + 11, Math.floor(tag / TWO_POW_32));
    writeU32(b, p + 15, tag >>> 0);
    b[p + 19] = 1; // multiple
    b[p + 20] = FRAME_END;
    tx.end = p + ACK_FRAME_BYTES;
  }

  /** Copies variant v of frames into the transmit buffer with the stamp patched; the caller flushes. */
  appendPublish(frames: PublishFrames, variant: number, producer: number, seq: number, sent_hi: number, sent_lo: number): void {
    const view = frames.views[variant]!;
    const at = this.tx.reserve(view.length);
    const b = this.tx.buf;
    b.set(view, at);
    this.tx.end = at + view.length;
    const s = at + frames.stampAt[variant]!;
    writeU32(b, s, producer);
    writeU32(b, s + 4, seq);
    writeU32(b, s + 8, sent_hi);
    writeU32(b, s + 12, sent_lo);
  }

  flush(): void {
    if (this.socket !== null && this.failure === null) this.tx.flush(this.socket);
  }

  get writable(): boolean {
    return !this.tx.backpressured && this.failure === null;
  }

  /** connection.close and wait (bounded) for close-ok, then end the socket. */
  async close(): Promise<void> {
    if (this.failure !== null || this.socket === null) {
      this.destroy();
      return;
    }
    this.closing = true;
    // A backpressured producer may still hold a tail: the close goes after it. A broker that
    // does not answer in time gets its socket ended anyway.
    const answered = this.call(0, { name: "connection.close", replyCode: 200, replyText: "bench done", classId: 0, methodId: 0 }, "connection.close-ok")
      .then(() => true, () => false);
    await Promise.race([answered, Bun.sleep(CLOSE_TIMEOUT_MS)]);
    this.destroy();
  }

  destroy(): void {
    this.closing = true;
    this.socket?.end();
    this.fail(new Error(`${this.name}: closed`));
  }

  private state(channel: number): ChannelState {
    const s = this.channels[channel];
    if (s === undefined) throw new Error(`${this.name}: channel ${channel} is not open`);
    return s;
  }

  private expect<N extends MethodName>(channel: number, expect: N): Promise<MethodOf<N>> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const state = this.state(channel);
    return new Promise<MethodOf<N>>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`${this.name}: no ${expect} on channel ${channel} within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
      state.pending.push({ expect, resolve: resolve as (m: Method) => void, reject, timer });
    });
  }

  private send(channel: number, method: Method): void {
    if (this.failure !== null || this.socket === null) return;
    this.writer.methodFrame(channel, method);
    const frame = this.writer.take();
    this.tx.append(frame, 0, frame.length);
    this.flush();
  }

  private onData(chunk: Uint8Array): void {
    this.now_ns = Bun.nanoseconds();
    try {
      this.splitter.push(chunk, 0);
    } catch (error) {
      this.fail(new Error(`${this.name}: ${(error as Error).message}`));
      this.socket?.end();
      return;
    }
    // Acks written while parsing leave in one write.
    this.flush();
    if (this.confirmsSeen) {
      this.confirmsSeen = false;
      this.onConfirmProgress?.();
    }
  }

  private onFrame(type: number, channel: number, b: Uint8Array, p: number, size: number): void {
    const state = this.channels[channel];
    if (state === undefined) {
      if (type === FRAME_HEARTBEAT) return;
      throw new Error(`frame type ${type} on unopened channel ${channel}`);
    }
    if (type === FRAME_METHOD) {
      const classId = (b[p]! << 8) | b[p + 1]!;
      const methodId = (b[p + 2]! << 8) | b[p + 3]!;
      if (classId === CLASS_BASIC) {
        if (methodId === BASIC_DELIVER) {
          const tagAt = p + 5 + b[p + 4]!; // after the consumer-tag shortstr
          state.deliveryTag = readU32(b, tagAt) * TWO_POW_32 + readU32(b, tagAt + 4);
          state.redelivered = (b[tagAt + 8]! & 1) !== 0;
          state.content = 1;
          return;
        }
        if (methodId === BASIC_ACK || methodId === BASIC_NACK) {
          if (state.confirms === null) throw new Error(`basic.${methodId === BASIC_ACK ? "ack" : "nack"} on channel ${channel} without confirms`);
          const tag = readU32(b, p + 4) * TWO_POW_32 + readU32(b, p + 8);
          state.confirms.settle(tag, (b[p + 12]! & 1) !== 0, methodId === BASIC_ACK);
          this.confirmsSeen = true;
          return;
        }
        if (methodId === BASIC_RETURN) {
          this.counters.returned++;
          state.content = 2;
          return;
        }
      } else if (classId === CLASS_CONNECTION && (methodId === CONNECTION_BLOCKED || methodId === CONNECTION_UNBLOCKED)) {
        if (methodId === CONNECTION_BLOCKED) this.counters.blocked++;
        else this.counters.unblocked++;
        return;
      }
      this.onControl(channel, state, decodeMethod(b, p, size));
      return;
    }
    if (type === FRAME_HEADER) {
      state.body_remaining = readU32(b, p + 4) * TWO_POW_32 + readU32(b, p + 8);
      state.stamped = false;
      if (state.body_remaining === 0) this.completeContent(state);
      return;
    }
    if (type === FRAME_BODY) {
      if (state.content === 1 && !state.stamped && size >= STAMP_BYTES) {
        state.producer = readU32(b, p);
        state.seq = readU32(b, p + 4);
        state.sent_ns = readU32(b, p + 8) * TWO_POW_32 + readU32(b, p + 12);
        state.stamped = true;
      }
      state.body_remaining -= size;
      if (state.body_remaining <= 0) this.completeContent(state);
      return;
    }
    if (type === FRAME_HEARTBEAT) return;
    throw new Error(`unknown frame type ${type}`);
  }

  private completeContent(state: ChannelState): void {
    if (state.content === 1 && state.sink !== null) {
      // An unstamped body (too short) counts with producer 0xffffffff: the tracker reports it.
      const producer = state.stamped ? state.producer : 0xffffffff;
      state.sink.onDelivery(producer, state.seq, this.now_ns - state.sent_ns, state.deliveryTag, state.redelivered);
    }
    state.content = 0;
  }

  private onControl(channel: number, state: ChannelState, method: Method): void {
    if (method.name === "connection.close" || method.name === "channel.close") {
      const reply = method.name === "connection.close" ? "connection.close-ok" : "channel.close-ok";
      this.send(channel, { name: reply });
      const error = new Error(`${this.name}: broker sent ${method.name} ${method.replyCode} ${method.replyText} (class ${method.classId}, method ${method.methodId})`);
      if (method.name === "connection.close") this.fail(error);
      else this.rejectAll(state, error);
      return;
    }
    if (method.name === "basic.cancel") {
      // consumer_cancel_notify: the broker dropped our consumer (e.g. its queue was deleted).
      this.counters.cancelledByBroker++;
      state.sink = null;
      return;
    }
    const head = state.pending[0];
    if (head === undefined) {
      if (this.closing) return;
      throw new Error(`unexpected ${method.name} on channel ${channel}`);
    }
    state.pending.shift();
    clearTimeout(head.timer);
    if (method.name === head.expect) head.resolve(method);
    else head.reject(new Error(`${this.name}: expected ${head.expect} on channel ${channel}, got ${method.name}`));
  }

  private rejectAll(state: ChannelState, error: Error): void {
    for (const p of state.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  private fail(error: Error): void {
    if (this.failure === null) this.failure = error;
    for (const state of this.channels) if (state !== undefined) this.rejectAll(state, this.failure);
  }
}

export function readU32(b: Uint8Array, at: number): number {
  return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
}

export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 8;
  b[at + 1] = v & 0xff;
}
