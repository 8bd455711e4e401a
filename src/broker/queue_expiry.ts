// x-expires (or a policy's expires): a queue unused for that long is deleted, durable ones too,
// with their messages (they are not dead-lettered), as RabbitMQ does. Unused means no consumers,
// no basic.get and no redeclare: each of those restarts the clock, and so does a policy change
// (the new expiry counts from then); while the queue has consumers there is none.
import type { QueueRecord } from "./queue_record.ts";

export class QueueExpiry {
  private readonly timers = new Map<QueueRecord, ReturnType<typeof setTimeout>>();

  constructor(private readonly expire: (queue: QueueRecord) => void) {}

  /** The queue was used (declared, redeclared, got from, lost its last consumer, its policy changed): the clock restarts. */
  used(queue: QueueRecord): void {
    this.stop(queue);
    const expires_ms = queue.settings.expires_ms;
    if (expires_ms === undefined || queue.consumers.size > 0 || queue.deleted) return;
    const timer = setTimeout(() => {
      this.timers.delete(queue);
      if (queue.consumers.size === 0 && !queue.deleted) this.expire(queue);
    }, expires_ms);
    timer.unref();
    this.timers.set(queue, timer);
  }

  /** A consumer attached, or the queue is gone: no clock runs. */
  stop(queue: QueueRecord): void {
    const timer = this.timers.get(queue);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(queue);
  }
}
