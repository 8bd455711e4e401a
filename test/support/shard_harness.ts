// A shard and the acceptor's link to it in one thread, joined by real rings: the core of the broker
// without sockets or processes. Tests send typed requests through ShardLink and see what the shard
// answers (deliveries, confirms, flow records) as the acceptor would.
import { Journal } from "../../src/journal/journal.ts";
import { CreditTable } from "../../src/link/credit_slots.ts";
import { beginPublishRecord, endPublishEnvelope, stampPublishRecord } from "../../src/link/publish_record.ts";
import { RecordBuilder } from "../../src/link/record_codec.ts";
import { ConsumeFlag, PublishFlag, QueueFlag, type QueueLimits } from "../../src/link/records.ts";
import { ShardInbox } from "../../src/link/shard_inbox.ts";
import { ShardLink, type ShardEvents, type ShardQueueStats } from "../../src/link/shard_link.ts";
import { RecordReceiver, RecordSender } from "../../src/rings/record_link.ts";
import { createRing } from "../../src/rings/ring.ts";
import { Shard } from "../../src/shard/shard.ts";

export interface Delivery {
  consumerId: number;
  deliveryId: number;
  redelivered: boolean;
  body: string;
}

const RING_BYTES = 1 << 20;
const decoder = new TextDecoder();

/** The body of an envelope (exchange, routing key, properties, body). */
function envelopeBody(env: Uint8Array, at: number, length: number): string {
  let p = at;
  p += 1 + env[p]!;
  p += 1 + env[p]!;
  const props = new DataView(env.buffer, env.byteOffset).getUint32(p);
  p += 4 + props;
  return decoder.decode(env.subarray(p, at + length));
}

export class ShardHarness implements ShardEvents {
  readonly link: ShardLink;
  readonly credits = new CreditTable();
  readonly deliveries: Delivery[] = [];
  readonly confirms: { channelId: number; seq: number }[] = [];
  readonly flow: { queueId: number; on: boolean }[] = [];
  private readonly receiver: RecordReceiver;
  /** The shard's journal, when the harness was given a directory for one. */
  readonly journal: Journal | null;

  /** `journalDir`: the shard journals durable queues there (no fsync), as a broker's shard does. */
  constructor(journalDir: string | null = null) {
    const toShard = createRing(RING_BYTES);
    const toAcceptor = createRing(RING_BYTES);
    this.link = new ShardLink(0, toShard, toAcceptor, this);
    this.journal = journalDir === null ? null : Journal.open({ dir: journalDir, fsync: "never", skipDamaged: false, snapshotEveryRecords: 0 });
    const shard = new Shard(new RecordSender(toAcceptor), this.credits, this.journal);
    if (this.journal !== null) shard.recover();
    const inbox = new ShardInbox(shard);
    this.receiver = new RecordReceiver(toShard, (u8, view, offset, length) => inbox.onRecord(u8, view, offset, length), () => shard.onBatchEnd());
    void this.receiver.run();
    this.link.start();
  }

  // ShardEvents
  deliver(_shard: number, consumerId: number, deliveryId: number, redelivered: boolean, _deliveryCount: number, env: Uint8Array, at: number, length: number): void {
    this.deliveries.push({ consumerId, deliveryId, redelivered, body: envelopeBody(env, at, length) });
  }
  confirm(_shard: number, channelId: number, seq: number): void {
    this.confirms.push({ channelId, seq });
  }
  nack(): void {}
  deadLetter(): void {}
  queueFlow(_shard: number, queueId: number, on: boolean): void {
    this.flow.push({ queueId, on });
  }
  batchEnd(): void {}

  declare(queueId: number, limits: QueueLimits = {}, durable = false): void {
    this.link.declare(queueId, durable ? QueueFlag.durable : 0, `/\0q${queueId}`, limits);
    this.flush();
  }

  /** `persistent`: delivery-mode 2 (journaled in a durable queue). */
  publish(queueIds: number[], body: string, seq = 0, persistent = false): void {
    const r = new RecordBuilder(64 + body.length);
    beginPublishRecord(r, "", "rk");
    const bytes = new TextEncoder().encode(body);
    r.u32(2).u16(0).bytes(bytes, 0, bytes.length);
    endPublishEnvelope(r);
    stampPublishRecord(r, (seq === 0 ? 0 : PublishFlag.confirm) | (persistent ? PublishFlag.persistent : 0), 1, seq);
    this.link.publish(r.u8, r.length, queueIds);
  }

  consume(queueId: number, consumerId: number, prefetch: number, noAck = false): number {
    const slot = this.credits.allocate();
    this.link.consume(queueId, consumerId, 1, slot, prefetch, noAck ? ConsumeFlag.noAck : 0, 0);
    this.flush();
    return slot;
  }

  flush(): void {
    this.link.sender.flush();
  }

  /**
   * Resolves once everything sent before is applied and what it caused was delivered: a sync is
   * answered while its batch is still being applied (before the batch's deliveries), so a second
   * one, answered in a later batch, follows them.
   */
  async settled(): Promise<void> {
    for (let i = 0; i < 2; i++) {
      await new Promise<void>((resolve) => {
        this.link.sync(resolve);
        this.flush();
      });
    }
  }

  /** Queue counts as a stats request reports them. */
  async counts(queueId: number): Promise<{ ready: number; unacked: number }> {
    const stats = await new Promise<ShardQueueStats[]>((resolve) => {
      this.link.stats(resolve);
      this.flush();
    });
    const q = stats.find((s) => s.queueId === queueId);
    return { ready: q?.ready ?? 0, unacked: q?.unacked ?? 0 };
  }

  stop(): void {
    this.receiver.stop();
  }
}
