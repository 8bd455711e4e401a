// x-expires: a queue unused for that long is deleted, durable ones too, with their messages (they
// are not dead-lettered), as RabbitMQ does. Unused means no consumers, no basic.get and no
// redeclare: each of those restarts the clock; while the queue has consumers there is none.
import type { FieldTable } from "../protocol/table.ts";
import type { QueueRecord } from "./queue_record.ts";

export class QueueExpiry {
  private readonly timers = new Map<QueueRecord, ReturnType<typeof setTimeout>>();

  constructor(private readonly expire: (queue: QueueRecord) => void) {}

  /** The queue was used (declared, redeclared, got from, or lost its last consumer): the clock restarts. */
  used(queue: QueueRecord): void {
    const expires_ms = expiresOf(queue.args);
    if (expires_ms === undefined) return;
    this.stop(queue);
    if (queue.consumers.size > 0 || queue.deleted) return;
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

function expiresOf(args: FieldTable): number | undefined {
  const value = args["x-expires"];
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  return undefined;
}
