// A virtual host: an isolated name space of exchanges (with their compiled routing table),
// queues and bindings, and its limits (resource_limits.ts).
import { VhostRoutes } from "../routing/vhost_routes.ts";
import type { QueueRecord } from "./queue_record.ts";

export class Vhost {
  readonly routes: VhostRoutes;
  readonly queues = new Map<string, QueueRecord>();
  /** max-connections, max-queues (RabbitMQ's vhost-limits parameter); none by default. */
  limits: Record<string, number> = {};

  constructor(readonly name: string) {
    this.routes = new VhostRoutes(name);
  }
}
