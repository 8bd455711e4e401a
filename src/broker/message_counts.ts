// Traffic counters for the management API's message_stats, in RabbitMQ's names. They are plain
// number fields on objects the hot path already holds (a channel, a queue record, an exchange, a
// connection), incremented where the event passes; the admin samples them every few seconds for
// rates (src/admin/counter_rates.ts). Nothing here costs a lookup or an allocation per message.
// Each class lists its fields once more, in `keys` and `sample`, so that sampling 10,000 queues is
// a few plain reads each (test/message_counts.test.ts checks the two lists against the fields).

/** A channel's messages; a queue keeps `publish` and the delivery fields; a vhost sums its channels'. */
export class MessageCounts {
  static readonly keys = ["publish", "confirm", "return_unroutable", "drop_unroutable", "deliver", "deliver_no_ack", "get", "get_no_ack", "get_empty", "redeliver", "ack"] as const;
  publish = 0;
  confirm = 0;
  return_unroutable = 0;
  drop_unroutable = 0;
  deliver = 0;
  deliver_no_ack = 0;
  get = 0;
  get_no_ack = 0;
  get_empty = 0;
  redeliver = 0;
  ack = 0;

  /** One message handed out: to a consumer or by basic.get, acked later or not. */
  delivered(get: boolean, noAck: boolean, redelivered: boolean): void {
    if (get) {
      if (noAck) this.get_no_ack++;
      else this.get++;
    } else if (noAck) {
      this.deliver_no_ack++;
    } else {
      this.deliver++;
    }
    if (redelivered) this.redeliver++;
  }

  /** The values in `keys` order. */
  sample(into: Float64Array): void {
    into[0] = this.publish;
    into[1] = this.confirm;
    into[2] = this.return_unroutable;
    into[3] = this.drop_unroutable;
    into[4] = this.deliver;
    into[5] = this.deliver_no_ack;
    into[6] = this.get;
    into[7] = this.get_no_ack;
    into[8] = this.get_empty;
    into[9] = this.redeliver;
    into[10] = this.ack;
  }

  add(other: MessageCounts): void {
    addCounts(this, other);
  }
}

/** A connection's socket traffic: bytes and reads / writes. */
export class ByteCounts {
  static readonly keys = ["recv_oct", "recv_cnt", "send_oct", "send_cnt"] as const;
  recv_oct = 0;
  recv_cnt = 0;
  send_oct = 0;
  send_cnt = 0;

  /** The values in `keys` order. */
  sample(into: Float64Array): void {
    into[0] = this.recv_oct;
    into[1] = this.recv_cnt;
    into[2] = this.send_oct;
    into[3] = this.send_cnt;
  }

  add(other: ByteCounts): void {
    addCounts(this, other);
  }
}

/** Adds every counter of `from` to `into`: when a channel or connection closes, never per message. */
function addCounts(into: object, from: object): void {
  const target = into as Record<string, number>;
  for (const [key, value] of Object.entries(from)) target[key] = (target[key] ?? 0) + (value as number);
}
