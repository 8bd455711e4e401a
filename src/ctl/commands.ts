// rabbitmqctl's verbs, their arguments, banners ("Adding vhost "x" ..."), error texts and exit
// codes as RabbitMQ 3.10 prints them, each carried out through the management API.
import { readFileSync, writeFileSync } from "node:fs";
import { reasonOf, seg, type MgmtClient } from "./client.ts";
import type { Command, CommandContext } from "./command.ts";
import { CtlError, ExitCode, failure } from "./errors.ts";
import type { Row } from "./format.ts";
import { limitCommands } from "./limits.ts";
import { listings } from "./listings.ts";
import { policyCommands } from "./policies.ts";

// --- vhosts, users, permissions --------------------------------------------------------------

async function userOrFail(client: MgmtClient, name: string): Promise<Row> {
  const result = await client.request("GET", `/api/users/${seg(name)}`, { allow: [404] });
  if (result.status === 404) throw failure(ExitCode.noUser, `User "${name}" does not exist`);
  return result.json as Row;
}

/** set_permissions and clear_permissions name a missing user or vhost as rabbitmqctl does. */
async function requireUserAndVhost(ctx: CommandContext, user: string): Promise<void> {
  if ((await ctx.client.request("GET", `/api/users/${seg(user)}`, { allow: [404] })).status === 404) {
    throw failure(ExitCode.noUser, `User ${user} does not exist`);
  }
  if ((await ctx.client.request("GET", `/api/vhosts/${seg(ctx.vhost)}`, { allow: [404] })).status === 404) {
    throw failure(ExitCode.unavailable, `Virtual host ${ctx.vhost} does not exist`);
  }
}

const administration: Command[] = [
  {
    name: "add_vhost",
    usage: "<vhost>",
    args: [1, 1],
    async run(ctx, [name]) {
      ctx.out.info(`Adding vhost "${name}" ...`);
      await ctx.client.request("PUT", `/api/vhosts/${seg(name!)}`, { body: {} });
    },
  },
  {
    name: "delete_vhost",
    usage: "<vhost>",
    args: [1, 1],
    async run(ctx, [name]) {
      ctx.out.info(`Deleting vhost "${name}" ...`);
      const result = await ctx.client.request("DELETE", `/api/vhosts/${seg(name!)}`, { allow: [404] });
      if (result.status === 404) throw new CtlError(ExitCode.dataErr, `Virtual host '${name}' does not exist`);
    },
  },
  {
    name: "add_user",
    usage: "<username> <password>",
    args: [2, 2],
    async run(ctx, [name, password]) {
      ctx.out.info(`Adding user "${name}" ...`);
      if ((await ctx.client.request("GET", `/api/users/${seg(name!)}`, { allow: [404] })).status !== 404) {
        throw failure(ExitCode.software, `User "${name}" already exists`);
      }
      await ctx.client.request("PUT", `/api/users/${seg(name!)}`, { body: { password, tags: "" } });
      ctx.out.info("Done. Don't forget to grant the user permissions to some virtual hosts! See 'rabbitmqctl help set_permissions' to learn more.");
    },
  },
  {
    name: "delete_user",
    usage: "<username>",
    args: [1, 1],
    async run(ctx, [name]) {
      ctx.out.info(`Deleting user "${name}" ...`);
      const result = await ctx.client.request("DELETE", `/api/users/${seg(name!)}`, { allow: [404] });
      if (result.status === 404) throw failure(ExitCode.noUser, `User "${name}" does not exist`);
    },
  },
  {
    name: "change_password",
    usage: "<username> <password>",
    args: [2, 2],
    async run(ctx, [name, password]) {
      ctx.out.info(`Changing password for user "${name}" ...`);
      const user = await userOrFail(ctx.client, name!);
      await ctx.client.request("PUT", `/api/users/${seg(name!)}`, { body: { password, tags: user["tags"] } });
    },
  },
  {
    name: "authenticate_user",
    usage: "<username> <password>",
    args: [2, 2],
    async run(ctx, [name, password]) {
      ctx.out.info(`Authenticating user "${name}" ...`);
      // 403 means the password was right but the user has no management tag: still authenticated.
      const result = await ctx.client.request("GET", "/api/whoami", { credentials: { user: name!, password: password! }, allow: [401, 403] });
      if (result.status === 401) throw failure(ExitCode.dataErr, `Error: failed to authenticate user "${name}"\nuser '${name}' - invalid credentials`);
      ctx.out.print("Success\n");
    },
  },
  {
    name: "set_user_tags",
    usage: "<username> <tag> [...]",
    args: [1, Infinity],
    async run(ctx, [name, ...tags]) {
      ctx.out.info(`Setting tags for user "${name}" to [${tags.join(", ")}] ...`);
      const user = await userOrFail(ctx.client, name!);
      await ctx.client.request("PUT", `/api/users/${seg(name!)}`, { body: { password_hash: user["password_hash"], tags } });
    },
  },
  {
    name: "set_permissions",
    usage: "[--vhost <vhost>] <username> <conf> <write> <read>",
    args: [4, 4],
    async run(ctx, [user, configure, write, read]) {
      ctx.out.info(`Setting permissions for user "${user}" in vhost "${ctx.vhost}" ...`);
      await requireUserAndVhost(ctx, user!);
      await ctx.client.request("PUT", `/api/permissions/${seg(ctx.vhost)}/${seg(user!)}`, { body: { configure, write, read } });
    },
  },
  {
    name: "clear_permissions",
    usage: "[--vhost <vhost>] <username>",
    args: [1, 1],
    async run(ctx, [user]) {
      ctx.out.info(`Clearing permissions for user "${user}" in vhost "${ctx.vhost}" ...`);
      await requireUserAndVhost(ctx, user!);
      // No permissions to clear is not an error, as in rabbitmqctl.
      await ctx.client.request("DELETE", `/api/permissions/${seg(ctx.vhost)}/${seg(user!)}`, { allow: [404] });
    },
  },
];

// --- queues and connections ------------------------------------------------------------------

const operations: Command[] = [
  {
    name: "purge_queue",
    usage: "[--vhost <vhost>] <queue>",
    args: [1, 1],
    async run(ctx, [queue]) {
      ctx.out.info(`Purging queue '${queue}' in vhost '${ctx.vhost}' ...`);
      const result = await ctx.client.request("DELETE", `/api/queues/${seg(ctx.vhost)}/${seg(queue!)}/contents`, { allow: [404] });
      if (result.status === 404) throw failure(ExitCode.unavailable, "not_found");
    },
  },
  {
    name: "delete_queue",
    usage: "[--vhost <vhost>] <queue> [--if-empty] [--if-unused]",
    args: [1, 1],
    flags: ["--if-empty", "--if-unused"],
    async run(ctx, [queue]) {
      ctx.out.info(`Deleting queue '${queue}' on vhost '${ctx.vhost}' ...`);
      const path = `/api/queues/${seg(ctx.vhost)}/${seg(queue!)}`;
      const found = await ctx.client.request("GET", path, { allow: [404] });
      // rabbitmqctl's exit code for a missing queue is 64 here.
      if (found.status === 404) throw failure(ExitCode.usage, "Queue not found");
      const query = [ctx.flags.has("--if-empty") ? "if-empty=true" : "", ctx.flags.has("--if-unused") ? "if-unused=true" : ""].filter((q) => q !== "").join("&");
      const result = await ctx.client.request("DELETE", query === "" ? path : `${path}?${query}`, { allow: [400, 404] });
      if (result.status === 404) throw failure(ExitCode.usage, "Queue not found");
      if (result.status === 400) throw failure(ExitCode.software, reasonOf(result));
      ctx.out.print(`Queue was successfully deleted with ${String((found.json as Row)["messages_ready"] ?? 0)} ready messages\n`);
    },
  },
  {
    name: "close_connection",
    usage: "<connection name> <explanation>",
    args: [2, 2],
    async run(ctx, [name, reason]) {
      ctx.out.info(`Closing connection ${name}, reason: ${reason}...`);
      const result = await ctx.client.request("DELETE", `/api/connections/${seg(name!)}`, { headers: { "x-reason": reason! }, allow: [404] });
      if (result.status === 404) throw failure(ExitCode.unavailable, `Connection '${name}' not found`);
    },
  },
];

// --- node ------------------------------------------------------------------------------------

interface StatusFacts {
  node: string;
  os_pid: string;
  uptime_s: number;
  product_name: string;
  product_version: string;
  rabbitmq_version: string;
  runtime: string;
  memory_used_bytes: number;
  memory_limit_bytes: number;
  disk_free_bytes: number;
  disk_free_limit_bytes: number;
  alarms: string[];
  connection_count: number;
  queue_count: number;
  virtual_host_count: number;
  listeners: { ip_address: string; port: number; protocol: string }[];
}

async function status(ctx: CommandContext): Promise<void> {
  const overview = (await ctx.client.get("/api/overview")) as Row;
  const node = ((await ctx.client.get("/api/nodes")) as Row[])[0] ?? {};
  const vhosts = (await ctx.client.get("/api/vhosts")) as Row[];
  const totals = overview["object_totals"] as Row;
  const facts: StatusFacts = {
    node: String(overview["node"]),
    os_pid: String(node["os_pid"]),
    uptime_s: Math.floor(Number(node["uptime"]) / 1000),
    product_name: String(overview["product_name"]),
    product_version: String(overview["product_version"]),
    rabbitmq_version: String(overview["rabbitmq_version"]),
    runtime: String(node["runtime"]),
    memory_used_bytes: Number(node["mem_used"]),
    memory_limit_bytes: Number(node["mem_limit"] ?? 0),
    disk_free_bytes: Number(node["disk_free"] ?? 0),
    disk_free_limit_bytes: Number(node["disk_free_limit"] ?? 0),
    alarms: [
      ...(node["mem_alarm"] === true ? [`Memory alarm on node ${String(overview["node"])}`] : []),
      ...(node["disk_free_alarm"] === true ? [`Free disk space alarm on node ${String(overview["node"])}`] : []),
    ],
    connection_count: Number(totals["connections"]),
    queue_count: Number(totals["queues"]),
    virtual_host_count: vhosts.length,
    listeners: overview["listeners"] as StatusFacts["listeners"],
  };
  if (ctx.out.json) {
    ctx.out.print(`${JSON.stringify(facts)}\n`);
    return;
  }
  ctx.out.info(`Status of node ${facts.node} ...`);
  ctx.out.print(statusText(facts));
}

const gb = (bytes: number): string => (bytes / 1e9).toFixed(4);

/** rabbitmqctl status's sections, with what Warren has of them. */
function statusText(f: StatusFacts): string {
  const purposes: Record<string, string> = {
    "amqp": "AMQP 0-9-1",
    "amqp/ssl": "AMQP 0-9-1 over TLS",
    "http": "HTTP API",
    "https": "HTTP API over TLS (HTTPS)",
    "http/prometheus": "Prometheus exporter API over HTTP",
  };
  const purpose = (protocol: string) => purposes[protocol] ?? protocol;
  return [
    "Runtime",
    "",
    `OS PID: ${f.os_pid}`,
    `Uptime (seconds): ${f.uptime_s}`,
    `Product name: ${f.product_name}`,
    `Product version: ${f.product_version}`,
    `RabbitMQ version: ${f.rabbitmq_version}`,
    `Node name: ${f.node}`,
    `Runtime: ${f.runtime}`,
    "",
    "Alarms",
    "",
    ...(f.alarms.length === 0 ? ["(none)"] : f.alarms),
    "",
    "Memory",
    "",
    `Total memory used: ${gb(f.memory_used_bytes)} gb`,
    "Calculation strategy: rss",
    `Memory high watermark setting: ${gb(f.memory_limit_bytes)} gb`,
    "",
    "Free Disk Space",
    "",
    `Low free disk space watermark: ${gb(f.disk_free_limit_bytes)} gb`,
    `Free disk space: ${gb(f.disk_free_bytes)} gb`,
    "",
    "Totals",
    "",
    `Connection count: ${f.connection_count}`,
    `Queue count: ${f.queue_count}`,
    `Virtual host count: ${f.virtual_host_count}`,
    "",
    "Listeners",
    "",
    ...f.listeners.map((l) => `Interface: ${l.ip_address}, port: ${l.port}, protocol: ${l.protocol}, purpose: ${purpose(l.protocol)}`),
    "",
  ].join("\n");
}

const node: Command[] = [
  { name: "status", usage: "", args: [0, 0], run: status },
  {
    name: "set_vm_memory_high_watermark",
    usage: "<fraction> | absolute <value>",
    args: [1, 2],
    async run(ctx, args) {
      const absolute = args[0] === "absolute";
      if (absolute !== (args.length === 2)) throw new CtlError(ExitCode.usage, "usage: set_vm_memory_high_watermark <fraction> | absolute <value>");
      const value = absolute ? args[1]! : args[0]!;
      ctx.out.info(`Setting memory threshold to ${value} ...`);
      await ctx.client.request("PUT", "/api/vm-memory-high-watermark", { body: absolute ? { absolute: value } : { fraction: Number(value) } });
    },
  },
  {
    name: "set_disk_free_limit",
    usage: "<disk_limit> | mem_relative <fraction>",
    args: [1, 2],
    async run(ctx, args) {
      const relative = args[0] === "mem_relative";
      if (relative !== (args.length === 2)) throw new CtlError(ExitCode.usage, "usage: set_disk_free_limit <disk_limit> | mem_relative <fraction>");
      const value = relative ? args[1]! : args[0]!;
      ctx.out.info(`Setting disk free limit to ${value} bytes ...`);
      await ctx.client.request("PUT", "/api/disk-free-limit", { body: relative ? { mem_relative: Number(value) } : { limit: value } });
    },
  },
  {
    name: "export_definitions",
    usage: "<file | \"-\">",
    args: [1, 1],
    async run(ctx, [file]) {
      const defs = await ctx.client.get("/api/definitions");
      if (file === "-") {
        ctx.out.print(`${JSON.stringify(defs)}\n`);
        return;
      }
      ctx.out.info(`Exporting definitions in JSON to a file at "${file}" ...`);
      try {
        writeFileSync(file!, `${JSON.stringify(defs, null, 2)}\n`);
      } catch (error) {
        throw failure(ExitCode.cantCreate, `cannot write ${file}: ${(error as Error).message}`);
      }
    },
  },
  {
    name: "import_definitions",
    usage: "<file>",
    args: [1, 1],
    async run(ctx, [file]) {
      let text: string;
      try {
        text = readFileSync(file!, "utf8");
      } catch {
        throw new CtlError(ExitCode.dataErr, `Error (argument validation): Bad argument: File ${file} does not exist`);
      }
      let defs: unknown;
      try {
        defs = JSON.parse(text);
      } catch {
        throw failure(ExitCode.dataErr, `${file} is not a JSON document`);
      }
      ctx.out.info(`Importing definitions in JSON from a file at "${file}" ...`);
      const result = await ctx.client.request("POST", "/api/definitions", { body: defs, allow: [400, 413] });
      if (result.status !== 204 && result.status !== 200) throw failure(ExitCode.dataErr, reasonOf(result));
      ctx.out.info("Successfully imported definitions.");
    },
  },
];

export const COMMANDS: ReadonlyMap<string, Command> = new Map([...listings, ...administration, ...policyCommands, ...limitCommands, ...operations, ...node].map((c) => [c.name, c]));
