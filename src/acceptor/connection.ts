// One client connection: the handshake state machine, channel 0 methods, heartbeats, frame
// dispatch to channels, and the socket's output discipline. Bun's socket.write() takes what the
// kernel accepts and returns the count: the rest is kept here and written on drain, and while
// output is backed up the connection stops reading and its channels stop receiving deliveries.
import type { Socket } from "bun";
import type { Broker, Flushable } from "../broker/broker.ts";
import { ByteCounts } from "../broker/message_counts.ts";
import type { QueueRecord } from "../broker/queue_record.ts";
import { checkChannelLimit, checkConnectionLimits } from "../broker/resource_limits.ts";
import type { Vhost } from "../broker/vhost.ts";
import { log } from "../log.ts";
import { FrameType, PROTOCOL_HEADER } from "../protocol/constants.ts";
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { FrameParser, type FrameSink } from "../protocol/frame_parser.ts";
import type { Method, MethodOf } from "../protocol/methods.ts";
import { decodeMethod } from "../protocol/methods.ts";
import { Timestamp, type FieldTable } from "../protocol/table.ts";
import { FrameWriter } from "../protocol/writer.ts";
import { parseCredentials } from "./auth_mechanisms.ts";
import { Channel } from "./channel.ts";
import type { ChannelHost, ClientCapabilities } from "./channel_host.ts";
import { serverProperties } from "./server_properties.ts";

export interface ConnectionLimits {
  frameMax_bytes: number;
  channelMax: number;
  heartbeat_s: number;
  /** The `product` connection.start advertises. */
  productName: string;
}

/** Unsent output past which deliveries to this connection pause and its socket stops being read. */
const OUTPUT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/**
 * Output buffered past this is written at once rather than at the end of the batch: a batch of
 * large deliveries would otherwise pile up in one buffer grown to tens of MiB (prefetch x body).
 */
const OUTPUT_CHUNK_BYTES = 256 * 1024;
/** How long to wait for the client's close-ok before dropping the socket. */
const CLOSE_OK_TIMEOUT_MS = 3_000;
/** How long to wait, after close-ok to a client's connection.close, for the client to close the socket. */
const CLIENT_CLOSE_TIMEOUT_MS = 30_000;
/** A client must finish the handshake within this time (RabbitMQ's handshake_timeout is 10 s). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

type State = "header" | "start-ok" | "tune-ok" | "open" | "opened" | "closing" | "closed";

/** RabbitMQ's names for these states, as its error texts show them. */
const RABBIT_STATE_NAMES: Record<State, string> = {
  header: "pre_init",
  "start-ok": "starting",
  "tune-ok": "tuning",
  open: "opening",
  opened: "running",
  closing: "closing",
  closed: "closed",
};

let nextConnectionId = 1;

export class Connection implements FrameSink, ChannelHost, Flushable {
  readonly id = nextConnectionId++;
  readonly out = new FrameWriter(64 * 1024);
  readonly capabilities: ClientCapabilities = { consumerCancelNotify: false, authenticationFailureClose: false, connectionBlocked: false };
  readonly connectedAt = Date.now();
  /** Socket traffic (the management API's recv_oct / send_oct); its vhost's once it is gone. */
  readonly bytes = new ByteCounts();
  private readonly parser: FrameParser;
  private state: State = "header";
  private readonly channels = new Map<number, Channel>();
  private readonly ownedQueues = new Set<QueueRecord>();
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private outputBlocked = false;
  private readonly readPausedBy = new Set<unknown>();
  private endAfterFlush = false;
  /** The socket closed (onClosed ran): nothing left to end. */
  private socketGone = false;
  private lastReceived_ms = Date.now();
  private lastSent_ms = Date.now();
  frameMax: number;
  channelMax: number;
  heartbeat_s: number;
  user = "";
  private vhostRecord: Vhost | null = null;
  clientProperties: FieldTable = {};
  /** Accepted on the TLS listener. */
  tls = false;
  /** The subject CN of the verified client certificate: offered EXTERNAL logs in as this user. */
  certificateUser: string | null = null;

  constructor(
    readonly broker: Broker,
    private readonly socket: Socket<Connection>,
    readonly peer: string,
    private readonly limits: ConnectionLimits,
    private readonly authenticate: (user: string, password: string, peer: string) => string | null,
    private readonly onGone: (connection: Connection) => void,
  ) {
    this.frameMax = limits.frameMax_bytes;
    this.channelMax = limits.channelMax;
    this.heartbeat_s = limits.heartbeat_s;
    this.parser = new FrameParser(this, limits.frameMax_bytes);
  }

  get vhost(): Vhost {
    if (this.vhostRecord === null) throw new AmqpError(ReplyCode.channelError, "connection is not open");
    return this.vhostRecord;
  }

  /** The vhost of connection.open, or null before it (and for connections that never opened). */
  get openedVhost(): Vhost | null {
    return this.vhostRecord;
  }

  get isOpen(): boolean {
    return this.state === "opened";
  }

  get channelCount(): number {
    return this.channels.size;
  }

  /** For admin listings. */
  *channelList(): IterableIterator<Channel> {
    yield* this.channels.values();
  }

  // --- socket events -----------------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    this.lastReceived_ms = Date.now();
    this.bytes.recv_oct += chunk.length;
    this.bytes.recv_cnt++;
    if (this.state === "closed") return;
    if (this.parser.dead) return; // after a framing error nothing more can be read in step
    try {
      this.parser.push(chunk);
    } catch (error) {
      // Only the parser's own framing errors get here (onFrame handles the rest): the stream is
      // out of step, so no close-ok could be recognised. As rabbit_reader does for a fatal frame
      // error, end the socket right after connection.close is written instead of waiting.
      this.fail(error);
      this.finish();
    }
  }

  onDrain(): void {
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      const written = this.socket.write(head);
      this.countSent(written);
      this.pendingBytes -= Math.max(0, written);
      if (written < head.length) {
        this.pending[0] = head.subarray(Math.max(0, written));
        return;
      }
      this.pending.shift();
    }
    if (this.endAfterFlush) {
      this.socket.end();
      return;
    }
    if (this.outputBlocked) {
      this.outputBlocked = false;
      for (const channel of this.channels.values()) channel.setOutputBlocked(false);
      this.resumeReading(this);
    }
    this.flush();
  }

  /** The socket is gone (client closed, network error, or we ended it). */
  onClosed(): void {
    this.socketGone = true;
    if (this.state === "closed") return;
    const wasOpen = this.state === "opened";
    this.state = "closed";
    this.releaseAll();
    this.gone();
    if (wasOpen) log.info(`connection closed: ${this.peer} user '${this.user}'`);
  }

  /** Heartbeats: send when idle for half the interval; drop a peer silent for two intervals. */
  tick(now_ms: number): void {
    if (this.state === "header" || this.state === "start-ok" || this.state === "tune-ok") {
      if (now_ms - this.connectedAt > HANDSHAKE_TIMEOUT_MS) {
        log.warn(`closing ${this.peer}: handshake timeout`);
        this.socket.end();
      }
      return;
    }
    if (this.state === "opened") for (const channel of this.channels.values()) this.guard(channel, () => channel.checkConsumerTimeout(now_ms));
    if (this.heartbeat_s === 0 || this.state === "closed") return;
    const interval_ms = this.heartbeat_s * 1000;
    if (now_ms - this.lastReceived_ms > 2 * interval_ms) {
      log.warn(`missed heartbeats from ${this.peer}, timeout: ${this.heartbeat_s}s`);
      this.socket.end();
      this.onClosed();
      return;
    }
    if (now_ms - this.lastSent_ms >= interval_ms / 2) {
      this.out.heartbeat();
      this.flush();
    }
  }

  // --- output --------------------------------------------------------------------------------

  send(channel: number, method: Method): void {
    this.out.methodFrame(channel, method);
    this.markDirty();
  }

  markDirty(): void {
    this.broker.markDirty(this);
    if (this.out.length >= OUTPUT_CHUNK_BYTES && !this.broker.definitionsPending) this.flush();
  }

  flush(): void {
    if (this.out.length === 0 || this.state === "closed") {
      this.out.take();
      return;
    }
    this.lastSent_ms = Date.now();
    if (this.pending.length > 0) {
      this.queueOutput(this.out.detach());
      return;
    }
    const bytes = this.out.u8;
    const length = this.out.length;
    const written = Math.max(0, this.socket.write(bytes, 0, length));
    this.countSent(written);
    if (written < length) {
      // The unsent tail keeps the writer's buffer; the writer continues in a new one.
      this.queueOutput(this.out.detach().subarray(written));
    } else {
      this.out.take();
    }
  }

  private countSent(written: number): void {
    if (written <= 0) return;
    this.bytes.send_oct += written;
    this.bytes.send_cnt++;
  }

  /** Output not yet taken by the socket (the management API's send_pend). */
  get pendingOutputBytes(): number {
    return this.pendingBytes;
  }

  private queueOutput(bytes: Uint8Array): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    if (!this.outputBlocked && this.pendingBytes > OUTPUT_HIGH_WATER_BYTES) {
      this.outputBlocked = true;
      for (const channel of this.channels.values()) channel.setOutputBlocked(true);
      this.pauseReading(this);
    }
  }

  /** Publisher: has this connection consumers of its own (see publish_flow.ts)? */
  get consuming(): boolean {
    for (const channel of this.channels.values()) if (channel.consuming) return true;
    return false;
  }

  notifyBlocked(reason: string): void {
    if (this.capabilities.connectionBlocked && this.state === "opened") this.send(0, { name: "connection.blocked", reason });
  }

  notifyUnblocked(): void {
    if (this.capabilities.connectionBlocked && this.state === "opened") this.send(0, { name: "connection.unblocked" });
  }

  pauseReading(by: unknown): void {
    if (this.readPausedBy.size === 0) this.socket.pause();
    this.readPausedBy.add(by);
  }

  resumeReading(by: unknown): void {
    if (!this.readPausedBy.delete(by)) return;
    if (this.readPausedBy.size === 0 && this.state !== "closed") this.socket.resume();
  }

  // --- frames --------------------------------------------------------------------------------

  onProtocolHeader(header: Uint8Array): void {
    let same = header.length === PROTOCOL_HEADER.length;
    for (let i = 0; same && i < header.length; i++) same = header[i] === PROTOCOL_HEADER[i];
    if (!same) {
      // A TLS ClientHello starts with a handshake record (0x16) of version 3.x.
      const tlsHello = header[0] === 0x16 && header[1] === 0x03;
      log.warn(`closing ${this.peer}: not an AMQP 0-9-1 protocol header${tlsHello && !this.tls ? " (a TLS client on the plain-text port; use the TLS port)" : ""}`);
      // The spec: answer with the protocol header we support, then close.
      this.socket.write(PROTOCOL_HEADER);
      this.state = "closed";
      this.socket.end();
      return;
    }
    this.state = "start-ok";
    this.send(0, {
      name: "connection.start",
      versionMajor: 0,
      versionMinor: 9,
      serverProperties: serverProperties(this.limits.productName),
      mechanisms: this.certificateUser === null ? "PLAIN AMQPLAIN" : "PLAIN AMQPLAIN EXTERNAL",
      locales: "en_US",
    });
  }

  onFrame(type: number, channel: number, buf: Uint8Array, offset: number, length: number): void {
    // An error in a well-formed frame is handled here rather than thrown into the parser: the
    // stream is still in step, so the parser must go on and find the client's close-ok (as
    // rabbit_reader keeps reading in its closing state). Only framing errors stop the parser.
    try {
      this.dispatch(type, channel, buf, offset, length);
    } catch (error) {
      this.fail(error);
    }
  }

  private dispatch(type: number, channel: number, buf: Uint8Array, offset: number, length: number): void {
    if (this.state === "closed") return;
    if (type === FrameType.heartbeat) {
      // rabbit_reader: a heartbeat on a channel other than 0 is an unexpected frame.
      if (channel !== 0) throw new AmqpError(ReplyCode.unexpectedFrame, `type ${type}, all octets = <<>>`);
      return;
    }
    if (channel === 0) {
      if (type !== FrameType.method) throw new AmqpError(ReplyCode.unexpectedFrame, "expected method frame, got non method frame instead");
      this.onConnectionMethod(decodeMethod(buf, offset, length));
      return;
    }
    if (this.state === "closing") return; // after connection.close only close-ok counts
    if (this.state !== "opened") throw new AmqpError(ReplyCode.channelError, `frame on channel ${channel} before the connection is open`);
    const ch = this.channels.get(channel);
    if (ch === undefined) {
      // As in RabbitMQ, a content frame for a channel not open fails in the command assembler
      // (505) before the channel could complain that it was not opened (504).
      if (type === FrameType.method) this.openChannel(channel, decodeMethod(buf, offset, length));
      else throw new AmqpError(ReplyCode.unexpectedFrame, "expected method frame, got non method frame instead");
      return;
    }
    this.guard(ch, () => ch.onFrame(type, buf, offset, length));
  }

  private openChannel(number: number, m: Method): void {
    if (m.name !== "channel.open") {
      throw new AmqpError(ReplyCode.channelError, `expected 'channel.open' on channel ${number}`, m.name);
    }
    if (number > this.channelMax) {
      throw new AmqpError(ReplyCode.notAllowed, `channel ${number} is higher than the negotiated channel_max ${this.channelMax}`, "channel.open");
    }
    checkChannelLimit(this.broker.connections, this.user, this.broker.users.get(this.user)?.limits ?? {});
    this.channels.set(number, new Channel(number, this, this.broker));
    this.send(number, { name: "channel.open-ok" });
  }

  guard(channel: Channel, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (error instanceof AmqpError && !error.isConnectionError) {
        if (!channel.isClosing) channel.closeWithError(error);
        return;
      }
      this.fail(error);
    }
  }

  channelClosed(channel: Channel): void {
    channel.release();
    this.channels.delete(channel.number);
  }

  ownQueue(queue: QueueRecord): void {
    this.ownedQueues.add(queue);
  }

  forgetOwnedQueue(queue: QueueRecord): void {
    this.ownedQueues.delete(queue);
  }

  // --- connection class --------------------------------------------------------------------

  private onConnectionMethod(m: Method): void {
    switch (m.name) {
      case "connection.start-ok": return this.startOk(m);
      case "connection.tune-ok": return this.tuneOk(m);
      case "connection.open": return this.open(m);
      case "connection.close":
        this.send(0, { name: "connection.close-ok" });
        // Crossed closes: ours still waits for its close-ok, which ends the socket.
        if (this.state !== "closing") this.finishAwaitingClientClose();
        return;
      case "connection.close-ok":
        if (this.state === "closing") this.finish();
        return;
      case "connection.update-secret":
        this.send(0, { name: "connection.update-secret-ok" });
        return;
      case "connection.blocked":
      case "connection.unblocked":
        return;
      default:
        throw this.unexpectedMethod(m);
    }
  }

  private expect(state: State, m: Method): void {
    if (this.state !== state) throw this.unexpectedMethod(m);
  }

  /** rabbit_reader's answer to a method channel 0 does not take in its state: 504 with the method's ids. */
  private unexpectedMethod(m: Method): AmqpError {
    return new AmqpError(ReplyCode.channelError, `unexpected method in connection state ${RABBIT_STATE_NAMES[this.state]}`, m.name);
  }

  private startOk(m: MethodOf<"connection.start-ok">): void {
    this.expect("start-ok", m);
    this.clientProperties = m.clientProperties;
    const caps = m.clientProperties["capabilities"];
    if (caps !== null && typeof caps === "object" && !Array.isArray(caps) && !(caps instanceof Uint8Array) && !(caps instanceof Timestamp)) {
      const table = caps as FieldTable;
      this.capabilities.consumerCancelNotify = table["consumer_cancel_notify"] === true;
      this.capabilities.authenticationFailureClose = table["authentication_failure_close"] === true;
      this.capabilities.connectionBlocked = table["connection.blocked"] === true;
    }
    const external = m.mechanism === "EXTERNAL";
    const credentials = external ? null : parseCredentials(m.mechanism, m.response);
    const user = external
      ? this.certificateUser === null ? null : this.broker.authenticateExternal(this.certificateUser, this.peer)
      : credentials === null ? null : this.authenticate(credentials.user, credentials.password, this.peer);
    if (user === null) {
      const who = credentials?.user ?? (external ? this.certificateUser : null);
      log.warn(`login refused for ${this.peer} (${m.mechanism}${who === null ? (external ? ": no verified client certificate" : "") : ` user '${who}'`})`);
      const error = new AmqpError(ReplyCode.accessRefused, `Login was refused using authentication mechanism ${m.mechanism}. For details see the broker logfile.`);
      if (this.capabilities.authenticationFailureClose) {
        this.closeWith(error);
      } else {
        this.state = "closed";
        this.socket.end();
      }
      return;
    }
    this.user = user;
    this.state = "tune-ok";
    this.send(0, { name: "connection.tune", channelMax: this.limits.channelMax, frameMax: this.limits.frameMax_bytes, heartbeat: this.limits.heartbeat_s });
  }

  private tuneOk(m: MethodOf<"connection.tune-ok">): void {
    this.expect("tune-ok", m);
    if (m.frameMax !== 0 && m.frameMax < 4096) {
      throw new AmqpError(ReplyCode.notAllowed, `negotiated frame_max = ${m.frameMax} is lower than the minimum allowed value (4096)`, "connection.tune-ok");
    }
    // As in RabbitMQ, 0 ("no limit") exceeds the limit the server offered, and it always offers one.
    if (m.frameMax === 0 || m.frameMax > this.limits.frameMax_bytes) {
      throw new AmqpError(ReplyCode.notAllowed, `negotiated frame_max = ${m.frameMax} is higher than the maximum allowed value (${this.limits.frameMax_bytes})`, "connection.tune-ok");
    }
    if (m.channelMax === 0 || m.channelMax > this.limits.channelMax) {
      const asked = m.channelMax === 0 ? "0 (no limit)" : String(m.channelMax);
      throw new AmqpError(ReplyCode.notAllowed, `negotiated channel_max = ${asked} is higher than the maximum allowed value (${this.limits.channelMax})`, "connection.tune-ok");
    }
    this.frameMax = m.frameMax;
    this.channelMax = m.channelMax;
    this.heartbeat_s = m.heartbeat;
    this.parser.frameMax = this.frameMax;
    this.state = "open";
  }

  private open(m: MethodOf<"connection.open">): void {
    this.expect("open", m);
    const vhost = this.broker.vhost(m.virtualHost);
    if (vhost === undefined) throw new AmqpError(ReplyCode.notAllowed, `vhost ${m.virtualHost} not found`, "connection.open");
    checkConnectionLimits(this.broker.connections, vhost, this.user, this.broker.users.get(this.user)?.limits ?? {});
    if (!this.broker.canAccessVhost(this.user, vhost.name)) {
      throw new AmqpError(ReplyCode.notAllowed, `access to vhost '${vhost.name}' refused for user '${this.user}'`, "connection.open");
    }
    this.vhostRecord = vhost;
    this.state = "opened";
    this.send(0, { name: "connection.open-ok" });
    log.info(`connection accepted: ${this.peer} user '${this.user}' vhost '${vhost.name}'`);
  }

  // --- closing -------------------------------------------------------------------------------

  /** A connection-level error (or a bug): connection.close with its code, or drop the socket. */
  private fail(error: unknown): void {
    if (error instanceof AmqpError) {
      // After connection.close only close-ok counts; RabbitMQ drops whatever else the client
      // still had in flight, so its errors are no news.
      if (this.state === "closing" || this.state === "closed") return;
      log.warn(`closing connection ${this.peer}: ${error.code} ${error.replyText}`);
      if (this.state === "header") {
        this.socket.end();
        return;
      }
      this.closeWith(error);
      return;
    }
    log.error(`internal error on connection ${this.peer}: ${(error as Error).stack ?? String(error)}`);
    this.closeWith(new AmqpError(ReplyCode.internalError, "internal error"));
  }

  /** Server-initiated close: everything is released now; the socket ends at close-ok or timeout. */
  closeWith(error: AmqpError): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.releaseAll();
    this.state = "closing";
    this.send(0, { name: "connection.close", replyCode: error.code, replyText: error.replyText, classId: error.classId, methodId: error.methodId });
    setTimeout(() => this.finish(), CLOSE_OK_TIMEOUT_MS).unref();
  }

  /** Ends the socket once what is queued has been written. */
  private finish(): void {
    if (this.state === "closed") return;
    this.releaseAll();
    this.flush();
    this.state = "closed";
    if (this.pending.length === 0) this.socket.end();
    else this.endAfterFlush = true;
    this.gone();
  }

  /**
   * After close-ok to the client's connection.close, as rabbit_reader does: whatever else arrives
   * is read and dropped (a client may have queued channel frames behind its close; ending the
   * socket now would make its remaining writes fail before it sees close-ok), and the client
   * closes the socket, or it is ended after CLIENT_CLOSE_TIMEOUT_MS.
   */
  private finishAwaitingClientClose(): void {
    this.releaseAll();
    this.flush();
    this.state = "closed";
    this.gone();
    // Reading may have been paused for output or ring backpressure that no longer matters.
    this.readPausedBy.clear();
    this.socket.resume();
    setTimeout(() => {
      if (!this.socketGone) this.socket.end();
    }, CLIENT_CLOSE_TIMEOUT_MS).unref();
  }

  /** Leaves the server's connections; its byte counts go to its vhost's at the same moment. */
  private gone(): void {
    this.vhostRecord?.closedConnections.add(this.bytes);
    this.onGone(this);
  }

  /** Channels released (unacked requeued, consumers cancelled), exclusive queues deleted. */
  private releaseAll(): void {
    this.broker.flow.forget(this);
    for (const channel of this.channels.values()) channel.release();
    this.channels.clear();
    for (const queue of this.ownedQueues) if (!queue.deleted) this.broker.deleteQueue(queue, false, () => {});
    this.ownedQueues.clear();
  }
}
