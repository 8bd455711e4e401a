// A virtual host: an isolated name space of exchanges (with their compiled routing table),
// queues, bindings and policies.
import { VhostRoutes } from "../routing/vhost_routes.ts";
import { PolicyStore } from "./policies.ts";
import type { QueueRecord } from "./queue_record.ts";

export class Vhost {
  readonly routes: VhostRoutes;
  readonly queues = new Map<string, QueueRecord>();
  readonly policies = new PolicyStore();

  constructor(readonly name: string) {
    this.routes = new VhostRoutes(name);
  }
}
