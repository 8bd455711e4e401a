// What the management API and /metrics read and act on: the broker, the AMQP listener (for its
// connections), and the facts about this node that RabbitMQ's API reports.
import { hostname } from "node:os";
import type { AmqpServer } from "../acceptor/server.ts";
import type { Broker } from "../broker/broker.ts";
import { CounterRates } from "./counter_rates.ts";
import { sweepCounters } from "./message_stats.ts";

/** The RabbitMQ release whose API and rabbitmqctl output Warren reproduces. */
export const RABBITMQ_COMPAT_VERSION = "3.10.8";

export interface Listener {
  readonly protocol: "amqp" | "amqp/ssl" | "http" | "https" | "http/prometheus";
  readonly host: string;
  readonly port: number;
}

export class AdminContext {
  /** Erlang-style node name, as RabbitMQ's API and rabbitmqctl print it. */
  readonly node = `warren@${hostname()}`;
  readonly startedAt = Date.now();
  readonly rates: CounterRates;
  readonly listeners: Listener[] = [];

  constructor(
    readonly broker: Broker,
    readonly server: AmqpServer,
  ) {
    this.rates = new CounterRates(sweepCounters(this));
  }
}
