// connection.start's server-properties: product, version, platform, and the capabilities table
// listing only what Warren implements.
import type { FieldTable } from "../protocol/table.ts";

export const WARREN_VERSION = "0.1.0";

/** `product` is "Warren" unless configured otherwise (--product-name, for clients that check it). */
export function serverProperties(product: string): FieldTable {
  return {
    product,
    version: WARREN_VERSION,
    platform: `Bun ${Bun.version}`,
    copyright: "Warren contributors",
    information: "An AMQP 0-9-1 broker for Bun, compatible with RabbitMQ clients",
    cluster_name: "warren",
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      "basic.nack": true,
      consumer_cancel_notify: true,
      "connection.blocked": true,
      consumer_priorities: true,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: true,
    },
  };
}
