// The list_* verbs: rabbitmqctl's banner, default columns and column names for each, read from
// the management API's objects. Column names not in a verb's set are a usage error (64).
import { seg } from "./client.ts";
import { type Command, type CommandContext, usageLine } from "./command.ts";
import { CtlError, ExitCode, failure, usageError } from "./errors.ts";
import type { Row } from "./format.ts";

/** A column: the API field it shows, or how to derive it from the API's object. */
type Column = string | ((row: Row) => unknown);

interface ListSpec {
  name: string;
  /** Takes -p and lists one vhost. */
  perVhost: boolean;
  /** A required argument naming what is listed (list_user_permissions' user), or null. */
  subject: string | null;
  /** Accepts column names as (further) arguments. */
  selectable: boolean;
  banner(ctx: CommandContext, args: string[]): string;
  path(ctx: CommandContext, args: string[]): string;
  columns: Record<string, Column>;
  defaults: string[];
  /** What a 404 from the API means: an empty listing, or an error. */
  notFound(ctx: CommandContext, args: string[]): CtlError | "empty";
}

const field = (path: string) => (row: Row): unknown => path.split(".").reduce<unknown>((v, k) => (v as Row | null)?.[k], row);

function listCommand(spec: ListSpec): Command {
  const fixed = spec.subject === null ? 0 : 1;
  const command: Command = {
    name: spec.name,
    usage: [spec.perVhost ? "[--vhost <vhost>]" : "", spec.subject ?? "", spec.selectable ? "[<column> ...]" : ""].filter((u) => u !== "").join(" "),
    args: [fixed, spec.selectable ? Infinity : fixed],
    async run(ctx, args) {
      const chosen = args.length > fixed ? args.slice(fixed) : spec.defaults;
      const unknown = chosen.filter((c) => !Object.hasOwn(spec.columns, c));
      if (unknown.length > 0) throw usageError(`Info key(s) ${unknown.join(",")} are not supported`, usageLine(command));
      ctx.out.info(spec.banner(ctx, args));
      const result = await ctx.client.request("GET", spec.path(ctx, args), { allow: [404] });
      let items: Row[] = [];
      if (result.status === 404) {
        const outcome = spec.notFound(ctx, args);
        if (outcome !== "empty") throw outcome;
      } else {
        items = result.json as Row[];
      }
      const rows = items.map((item) => Object.fromEntries(chosen.map((c) => {
        const column = spec.columns[c]!;
        return [c, typeof column === "string" ? item[column] : column(item)];
      })));
      ctx.out.rows(chosen, rows);
    },
  };
  return command;
}

const same = (...names: string[]): Record<string, Column> => Object.fromEntries(names.map((n) => [n, n]));
const vhostGone = (ctx: CommandContext) => new CtlError(ExitCode.dataErr, `Virtual host '${ctx.vhost}' does not exist`);

/** list_policies and list_operator_policies: the definition is shown as its JSON text, as rabbitmqctl does. */
function policyListing(name: string, what: string, path: string): Command {
  return listCommand({
    name,
    perVhost: true,
    subject: null,
    selectable: false,
    banner: (ctx) => `Listing ${what} for vhost "${ctx.vhost}" ...`,
    path: (ctx) => `${path}/${seg(ctx.vhost)}`,
    columns: { ...same("vhost", "name", "pattern", "apply-to", "priority"), definition: (row) => JSON.stringify(row["definition"]) },
    defaults: ["vhost", "name", "pattern", "apply-to", "definition", "priority"],
    notFound: vhostGone,
  });
}

export const listings: Command[] = [
  listCommand({
    name: "list_vhosts",
    perVhost: false,
    subject: null,
    selectable: true,
    banner: () => "Listing vhosts ...",
    path: () => "/api/vhosts",
    columns: same("name", "description", "tags", "tracing", "default_queue_type", "cluster_state"),
    defaults: ["name"],
    notFound: () => "empty",
  }),
  listCommand({
    name: "list_users",
    perVhost: false,
    subject: null,
    selectable: false,
    banner: () => "Listing users ...",
    path: () => "/api/users",
    columns: { user: "name", tags: "tags" },
    defaults: ["user", "tags"],
    notFound: () => "empty",
  }),
  listCommand({
    name: "list_permissions",
    perVhost: true,
    subject: null,
    selectable: false,
    banner: (ctx) => `Listing permissions for vhost "${ctx.vhost}" ...`,
    path: (ctx) => `/api/vhosts/${seg(ctx.vhost)}/permissions`,
    columns: same("user", "configure", "write", "read"),
    defaults: ["user", "configure", "write", "read"],
    notFound: vhostGone,
  }),
  listCommand({
    name: "list_user_permissions",
    perVhost: false,
    subject: "<username>",
    selectable: false,
    banner: (_ctx, args) => `Listing permissions for user "${args[0]}" ...`,
    path: (_ctx, args) => `/api/users/${seg(args[0]!)}/permissions`,
    columns: same("vhost", "configure", "write", "read"),
    defaults: ["vhost", "configure", "write", "read"],
    notFound: (_ctx, args) => failure(ExitCode.unavailable, `User "${args[0]}" does not exist`),
  }),
  listCommand({
    name: "list_queues",
    perVhost: true,
    subject: null,
    selectable: true,
    banner: (ctx) => `Listing queues for vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/queues/${seg(ctx.vhost)}`,
    columns: same("name", "vhost", "messages", "messages_ready", "messages_unacknowledged", "message_bytes_ready", "consumers",
      "durable", "auto_delete", "exclusive", "exclusive_consumer_tag", "arguments", "policy", "state", "type"),
    defaults: ["name", "messages"],
    notFound: () => "empty",
  }),
  listCommand({
    name: "list_exchanges",
    perVhost: true,
    subject: null,
    selectable: true,
    banner: (ctx) => `Listing exchanges for vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/exchanges/${seg(ctx.vhost)}`,
    columns: same("name", "vhost", "type", "durable", "auto_delete", "internal", "arguments", "policy"),
    defaults: ["name", "type"],
    notFound: () => "empty",
  }),
  policyListing("list_policies", "policies", "/api/policies"),
  policyListing("list_operator_policies", "operator policy overrides", "/api/operator-policies"),
  listCommand({
    name: "list_bindings",
    perVhost: true,
    subject: null,
    selectable: true,
    banner: (ctx) => `Listing bindings for vhost ${ctx.vhost}...`,
    path: (ctx) => `/api/bindings/${seg(ctx.vhost)}`,
    columns: {
      source_name: "source",
      source_kind: () => "exchange",
      destination_name: "destination",
      destination_kind: "destination_type",
      routing_key: "routing_key",
      arguments: "arguments",
      vhost: "vhost",
    },
    defaults: ["source_name", "source_kind", "destination_name", "destination_kind", "routing_key", "arguments"],
    notFound: () => "empty",
  }),
  listCommand({
    name: "list_connections",
    perVhost: false,
    subject: null,
    selectable: true,
    banner: () => "Listing connections ...",
    path: () => "/api/connections",
    columns: {
      ...same("name", "user", "vhost", "peer_host", "peer_port", "host", "port", "state", "channels", "connected_at",
        "client_properties", "frame_max", "channel_max", "timeout", "type", "ssl"),
      protocol: () => "{0,9,1}",
    },
    defaults: ["user", "peer_host", "peer_port", "state"],
    notFound: () => "empty",
  }),
  listCommand({
    name: "list_channels",
    perVhost: false,
    subject: null,
    selectable: true,
    banner: () => "Listing channels ...",
    path: () => "/api/channels",
    // Warren has no Erlang pids: "pid" shows the channel's name, "connection" its connection's.
    columns: {
      pid: "name",
      connection: field("connection_details.name"),
      ...same("name", "number", "user", "vhost", "transactional", "confirm", "consumer_count", "messages_unacknowledged", "prefetch_count", "state"),
    },
    defaults: ["pid", "user", "consumer_count", "messages_unacknowledged"],
    notFound: () => "empty",
  }),
  listCommand({
    name: "list_consumers",
    perVhost: true,
    subject: null,
    selectable: true,
    banner: (ctx) => `Listing consumers in vhost ${ctx.vhost} ...`,
    path: (ctx) => `/api/consumers/${seg(ctx.vhost)}`,
    columns: {
      queue_name: field("queue.name"),
      channel_pid: field("channel_details.name"),
      ...same("consumer_tag", "ack_required", "prefetch_count", "active", "activity_status", "arguments", "exclusive"),
    },
    defaults: ["queue_name", "channel_pid", "consumer_tag", "ack_required", "prefetch_count", "active", "arguments"],
    notFound: () => "empty",
  }),
];
