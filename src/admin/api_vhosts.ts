// /api/vhosts[/name]: list (the vhosts the caller can see), show, create, delete. Vhost
// descriptions and tags are accepted but not stored: Warren's vhosts have only a name.
import type { QueueStats } from "../broker/broker.ts";
import type { Vhost } from "../broker/vhost.ts";
import type { AdminContext } from "./admin_context.ts";
import { vhostsInScope } from "./api_auth.ts";
import { notFound } from "./api_errors.ts";
import { messageTotals } from "./api_queues.ts";
import { CHANNEL_PUBLISH_FIELDS, messageStats, octetStats, vhostTotals, type VhostTotals } from "./message_stats.ts";
import { created, existingVhost, noContent, ok, param, sortedByVhostAndName, type Route } from "./api_route.ts";
import { addVhost, deleteVhost } from "./vhost_admin.ts";

function vhostJson(ctx: AdminContext, vhost: Vhost, stats: Map<number, QueueStats>, totals: VhostTotals | undefined): Record<string, unknown> {
  return {
    name: vhost.name,
    description: "",
    tags: [],
    default_queue_type: "classic",
    metadata: { description: "", tags: [] },
    tracing: false,
    cluster_state: { [ctx.node]: "running" },
    ...(totals === undefined ? {} : octetStats(ctx.rates, vhost.closedConnections, totals.bytes)),
    ...messageTotals(ctx.rates, [...vhost.queues.values()], stats),
    ...(totals === undefined ? {} : messageStats(ctx.rates, vhost.closedChannels, totals.messages, CHANNEL_PUBLISH_FIELDS)),
  };
}

export const vhostRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/vhosts",
    access: "management",
    handle: async ({ ctx, principal }) => {
      const stats = await ctx.broker.queueStats();
      const totals = vhostTotals(ctx);
      return ok(sortedByVhostAndName(vhostsInScope(ctx, principal, undefined).map((v) => vhostJson(ctx, v, stats, totals.get(v)))));
    },
  },
  {
    method: "GET",
    path: "/api/vhosts/:vhost",
    access: "vhost",
    handle: async (req) => {
      const vhost = existingVhost(req);
      const stats = await req.ctx.broker.queueStats();
      return ok(vhostJson(req.ctx, vhost, stats, vhostTotals(req.ctx).get(vhost)));
    },
  },
  {
    method: "PUT",
    path: "/api/vhosts/:vhost",
    access: "administrator",
    handle: async (req) => {
      await req.body(); // validated as JSON; description, tags and tracing are not kept
      return addVhost(req.ctx, param(req, "vhost")) ? created : noContent;
    },
  },
  {
    method: "DELETE",
    path: "/api/vhosts/:vhost",
    access: "administrator",
    handle: async (req) => {
      if (!(await deleteVhost(req.ctx, param(req, "vhost")))) throw notFound();
      return noContent;
    },
  },
];
