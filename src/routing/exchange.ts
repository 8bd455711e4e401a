import type { FieldTable } from "../protocol/table.ts";

export type ExchangeType = "direct" | "fanout" | "topic" | "headers";

export function isExchangeType(s: string): s is ExchangeType {
  return s === "direct" || s === "fanout" || s === "topic" || s === "headers";
}

export interface ExchangeDef {
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

/** The name of the default exchange; it routes by queue name and is handled outside VhostRoutes. */
export const DEFAULT_EXCHANGE = "";

/** The exchanges every RabbitMQ vhost is created with (rabbit_vhost:add_default_exchanges). */
export function builtInExchangeDefs(): ExchangeDef[] {
  const def = (name: string, type: ExchangeType): ExchangeDef => ({
    name,
    type,
    durable: true,
    autoDelete: false,
    internal: false,
    arguments: {},
  });
  return [
    def(DEFAULT_EXCHANGE, "direct"),
    def("amq.direct", "direct"),
    def("amq.fanout", "fanout"),
    def("amq.topic", "topic"),
    def("amq.headers", "headers"),
    def("amq.match", "headers"),
  ];
}

/** The "alternate-exchange" argument, when it names an exchange (RabbitMQ only honours a longstr). */
export function alternateExchangeOf(def: ExchangeDef): string | undefined {
  const value = def.arguments["alternate-exchange"];
  return typeof value === "string" ? value : undefined;
}
