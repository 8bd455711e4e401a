// A virtual host: an isolated name space of exchanges (with their compiled routing table),
// queues, bindings and policies, and its limits (resource_limits.ts).
import { VhostRoutes } from "../routing/vhost_routes.ts";
import { PolicyStore } from "./policies.ts";
import { ByteCounts, MessageCounts } from "./message_counts.ts";
import type { QueueRecord } from "./queue_record.ts";

export class Vhost {
  readonly routes: VhostRoutes;
  readonly queues = new Map<string, QueueRecord>();
  readonly policies = new PolicyStore();
  /**
   * The counts of the vhost's channels and connections that have closed, folded in as they close:
   * the vhost's totals are these plus its live ones' (summed by the admin, not per message).
   */
  readonly closedChannels = new MessageCounts();
  readonly closedConnections = new ByteCounts();
  /** max-connections, max-queues (RabbitMQ's vhost-limits parameter); none by default. */
  limits: Record<string, number> = {};

  constructor(readonly name: string) {
    this.routes = new VhostRoutes(name);
  }
}
