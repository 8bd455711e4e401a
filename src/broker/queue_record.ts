// A queue as the acceptor knows it: its definition, which shard holds its messages, and who
// consumes from it. The messages themselves live only in the shard.
import type { FieldTable } from "../protocol/table.ts";
import type { QueueLimits } from "../link/records.ts";
import type { QueueSettings } from "./policies.ts";
import { queueType, type QueueType } from "./queue_arguments.ts";
import type { ConsumerRecord } from "./consumer_record.ts";
import { MessageCounts } from "./message_counts.ts";
import type { Publisher } from "./publish_flow.ts";

export interface QueueOwner {
  readonly id: number;
}

export class QueueRecord {
  readonly consumers = new Set<ConsumerRecord>();
  /** True once a consumer attached: an auto-delete queue goes when its last consumer does. */
  hadConsumer = false;
  deleted = false;
  /** The shard reported a backlog past the flow mark (see publish_flow.ts). */
  inFlow = false;
  /** Publishers not read until the queue leaves flow. */
  readonly flowPaused = new Set<Publisher>();
  /** Publishes routed here (also rabbitmq_queue_messages_published_total), deliveries, gets and acks (the confirm and unroutable fields stay 0). */
  readonly counts = new MessageCounts();

  constructor(
    /** Global id, unique for the broker's lifetime; names the queue in ring records. */
    readonly id: number,
    readonly vhost: string,
    readonly name: string,
    readonly shard: number,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    /** The connection of an exclusive queue; null otherwise. */
    readonly owner: QueueOwner | null,
    readonly args: FieldTable,
    /** The arguments merged with the policies that apply (replaced when a policy changes). */
    public settings: QueueSettings,
  ) {}

  /** What the queue's shard enforces. */
  get limits(): QueueLimits {
    return this.settings.limits;
  }

  /** The queue's name in the journal: unique across vhosts. */
  get key(): string {
    return `${this.vhost}\0${this.name}`;
  }

  /** x-queue-type: decides the declare's checks and a few methods' answers, not the storage. */
  get type(): QueueType {
    return queueType(this.args);
  }

  get exclusiveConsumer(): ConsumerRecord | undefined {
    for (const c of this.consumers) if (c.exclusive) return c;
    return undefined;
  }
}
