// A consumer as the acceptor knows it: which channel its deliveries go to, under which tag.
import type { QueueRecord } from "./queue_record.ts";

export interface ConsumerChannel {
  readonly channelId: number;
}

export class ConsumerRecord {
  constructor(
    /** Global id carried by delivery records from the shard. */
    readonly id: number,
    readonly tag: string,
    readonly queue: QueueRecord,
    readonly channel: ConsumerChannel,
    readonly noAck: boolean,
    readonly exclusive: boolean,
  ) {}
}
