// Assembles basic.publish + content header + body frames into the publish record a shard
// receives (records.ts), writing straight into one reusable buffer: the envelope is laid out as
// the frames arrive, so a message is copied once from the socket into the record.
import { AmqpError, ReplyCode } from "../protocol/errors.ts";
import { decodeContentHeader } from "../protocol/properties.ts";
import { ClassId } from "../protocol/constants.ts";
import { RecordBuilder } from "../link/record_codec.ts";
import { beginPublishRecord, endPublishEnvelope } from "../link/publish_record.ts";

/** RabbitMQ's default max_message_size: 128 MiB. */
export const MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
/** A buffer grown past this for one big message is dropped afterwards rather than kept per channel. */
const KEEP_BUFFER_BYTES = 1024 * 1024;
/**
 * A body that arrives whole in one frame of at least this many bytes is not copied into the
 * record: the record keeps a view of the frame and the shard link copies it once, into the ring.
 */
const BODY_BY_REFERENCE_MIN_BYTES = 16 * 1024;
const NO_BODY = new Uint8Array(0);


export class PublishAssembler {
  record = new RecordBuilder(4096);
  /** 0 idle, 1 awaiting content header, 2 awaiting body frames. */
  private state = 0;
  private bodyRemaining = 0;
  exchange = "";
  routingKey = "";
  mandatory = false;
  /** Where the raw properties sit in `record` (for peeks), and the body. */
  propsAt = 0;
  propsLength = 0;
  bodyAt = 0;
  /**
   * The body when it was taken by reference: a view of the frame it came in, valid only while
   * that frame is being handled (publishComplete runs inside it). Empty when the body is in
   * `record` from bodyAt on.
   */
  bodyView: Uint8Array = NO_BODY;

  get idle(): boolean {
    return this.state === 0;
  }

  get awaitingHeader(): boolean {
    return this.state === 1;
  }

  begin(exchange: string, routingKey: string, mandatory: boolean): void {
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.mandatory = mandatory;
    beginPublishRecord(this.record, exchange, routingKey);
    this.state = 1;
  }

  /** Takes the content header; true when the message is complete (empty body). */
  header(buf: Uint8Array, offset: number, length: number): boolean {
    const h = decodeContentHeader(buf, offset, length);
    if (h.classId !== ClassId.basic) {
      throw new AmqpError(ReplyCode.unexpectedFrame, `expected content header for class 60, got one for class ${h.classId} instead`, "basic.publish");
    }
    if (h.bodySize > MAX_MESSAGE_BYTES) {
      throw new AmqpError(ReplyCode.preconditionFailed, `message size ${h.bodySize} is larger than configured max size ${MAX_MESSAGE_BYTES}`, "basic.publish");
    }
    const r = this.record;
    // Room for the declared body only up to KEEP_BUFFER_BYTES: past that the record grows as
    // body frames actually arrive, so a client declaring 128 MiB bodies on every channel without
    // sending them cannot make the broker reserve 128 MiB per channel.
    r.ensure(4 + h.propsLength + Math.min(h.bodySize, KEEP_BUFFER_BYTES) + 8);
    r.u32(h.propsLength);
    this.propsAt = r.length;
    this.propsLength = h.propsLength;
    r.bytes(buf, h.propsOffset, h.propsLength);
    this.bodyAt = r.length;
    this.bodyRemaining = h.bodySize;
    this.state = 2;
    return this.bodyRemaining === 0 ? this.finish() : false;
  }

  /** Takes a body frame; true when the message is complete. */
  body(buf: Uint8Array, offset: number, length: number): boolean {
    if (length > this.bodyRemaining) {
      // RabbitMQ 3.10 only notices at the next method frame (505); later versions answer at once
      // with this 501, which is clearer and keeps the overlong bytes out of the message.
      throw new AmqpError(ReplyCode.frameError, `content body frame exceeds remaining content size (${length} bytes, ${this.bodyRemaining} left)`, "basic.publish");
    }
    if (length === this.bodyRemaining && length >= BODY_BY_REFERENCE_MIN_BYTES && this.record.length === this.bodyAt) {
      this.bodyView = buf.subarray(offset, offset + length);
      this.bodyRemaining = 0;
      return this.finish();
    }
    this.record.bytes(buf, offset, length);
    this.bodyRemaining -= length;
    return this.bodyRemaining === 0 ? this.finish() : false;
  }

  get bodyLength(): number {
    return this.record.length - this.bodyAt + this.bodyView.length;
  }

  /** The finished message's body, wherever it is (a view: copy it to keep it). */
  get bodyBytes(): Uint8Array {
    return this.bodyView.length > 0 ? this.bodyView : this.record.u8.subarray(this.bodyAt, this.record.length);
  }

  /** The whole record in `record` (a body taken by reference copied in): for paths that keep it. */
  materialize(): RecordBuilder {
    if (this.bodyView.length > 0) {
      const view = this.bodyView;
      this.bodyView = NO_BODY;
      this.record.bytes(view, 0, view.length);
    }
    return this.record;
  }

  /** Swaps the message's raw properties (direct reply-to rewrites reply-to) in the finished record. */
  replaceProperties(props: Uint8Array): void {
    const old = this.materialize();
    const body = old.u8.subarray(this.bodyAt, old.length);
    const next = new RecordBuilder(this.propsAt + props.length + body.length + 64);
    next.bytes(old.u8, 0, this.propsAt - 4);
    next.u32(props.length);
    this.propsAt = next.length;
    this.propsLength = props.length;
    next.bytes(props, 0, props.length);
    this.bodyAt = next.length;
    next.bytes(body, 0, body.length);
    this.record = next;
    this.finish();
  }

  /** Done with the record (after it was sent or buffered): get ready for the next publish. */
  reset(): void {
    this.state = 0;
    this.bodyView = NO_BODY;
    if (this.record.u8.length > KEEP_BUFFER_BYTES) this.record = new RecordBuilder(4096);
  }

  private finish(): boolean {
    endPublishEnvelope(this.record, this.bodyView.length);
    return true;
  }
}
