// rabbitmqctl's limit verbs: set_vhost_limits / clear_vhost_limits / list_vhost_limits and
// set_user_limits / clear_user_limits / list_user_limits, with RabbitMQ 3.10's banners, output
// (the limits as one JSON object; --global lists every vhost or user in a table), error texts
// and exit codes. One difference: Warren's ctl takes `--user` for its own login, so
// list_user_limits names the user as an argument rather than with rabbitmqctl's --user.
import { reasonOf, seg } from "./client.ts";
import type { Command, CommandContext } from "./command.ts";
import { CtlError, ExitCode, failure } from "./errors.ts";
import type { Row } from "./format.ts";

/** The limits argument, parsed as rabbitmqctl does (its JSON errors exit 69). */
function limitsArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw failure(ExitCode.unavailable, "JSON decoding error. Reason: badarg");
  }
}

const vhostGone = (vhost: string) => new CtlError(ExitCode.dataErr, `Virtual host '${vhost}' does not exist`);
const noSuchUser = (user: string) => failure(ExitCode.unavailable, `{:no_such_user, ${JSON.stringify(user)}}`);

/** A PUT or DELETE of limits: a refused value is rabbitmqctl's validation error (69). */
async function change(ctx: CommandContext, method: "PUT" | "DELETE", path: string, body?: unknown): Promise<number> {
  const result = await ctx.client.request(method, path, { ...(body === undefined ? {} : { body }), allow: [400, 404] });
  if (result.status === 400) throw failure(ExitCode.unavailable, reasonOf(result));
  return result.status;
}

/** --global: every vhost's (or user's) limits, one row each, the limits as JSON. */
async function listAll(ctx: CommandContext, key: "vhost" | "user"): Promise<void> {
  ctx.out.info(`Listing limits for all ${key}s ...`);
  const rows = (await ctx.client.get(`/api/${key}-limits`)) as Row[];
  ctx.out.rows([key, "limits"], rows.map((r) => ({ [key]: r[key], limits: JSON.stringify(r["value"]) })));
}

/** The limits of one vhost or user from its /api/*-limits/X listing ({} when it has none). */
function limitsOf(listing: unknown): Row {
  return ((listing as Row[])[0]?.["value"] as Row | undefined) ?? {};
}

export const limitCommands: Command[] = [
  {
    name: "set_vhost_limits",
    usage: "[--vhost <vhost>] <definition>",
    args: [1, 1],
    async run(ctx, [definition]) {
      ctx.out.info(`Setting vhost limits to "${definition}" for vhost "${ctx.vhost}" ...`);
      const limits = limitsArgument(definition!);
      if ((await change(ctx, "PUT", `/api/vhost-limits/${seg(ctx.vhost)}`, limits)) === 404) throw vhostGone(ctx.vhost);
    },
  },
  {
    name: "clear_vhost_limits",
    usage: "[--vhost <vhost>]",
    args: [0, 0],
    async run(ctx) {
      ctx.out.info(`Clearing vhost "${ctx.vhost}" limits ...`);
      if ((await change(ctx, "DELETE", `/api/vhost-limits/${seg(ctx.vhost)}`)) === 404) throw failure(ExitCode.unavailable, "Parameter does not exist");
    },
  },
  {
    name: "list_vhost_limits",
    usage: "[--vhost <vhost>] [--global]",
    args: [0, 0],
    flags: ["--global"],
    async run(ctx) {
      if (ctx.flags.has("--global")) return listAll(ctx, "vhost");
      ctx.out.info(`Listing limits for vhost "${ctx.vhost}" ...`);
      const result = await ctx.client.request("GET", `/api/vhost-limits/${seg(ctx.vhost)}`, { allow: [404] });
      if (result.status === 404) throw vhostGone(ctx.vhost);
      const limits = limitsOf(result.json);
      // rabbitmqctl prints an empty line for a vhost without limits, the JSON object otherwise.
      ctx.out.print(`${Object.keys(limits).length === 0 ? "" : JSON.stringify(limits)}\n`);
    },
  },
  {
    name: "set_user_limits",
    usage: "<username> <definition>",
    args: [2, 2],
    async run(ctx, [user, definition]) {
      ctx.out.info(`Setting user limits to "${definition}" for user "${user}" ...`);
      const limits = limitsArgument(definition!);
      if ((await ctx.client.request("GET", `/api/users/${seg(user!)}`, { allow: [404] })).status === 404) throw noSuchUser(user!);
      await change(ctx, "PUT", `/api/user-limits/${seg(user!)}`, limits);
    },
  },
  {
    name: "clear_user_limits",
    usage: "<username> <limit> | all",
    args: [2, 2],
    async run(ctx, [user, name]) {
      ctx.out.info(name === "all" ? `Clearing all limits for user "${user}" ...` : `Clearing "${name}" limit for user "${user}" ...`);
      if ((await ctx.client.request("GET", `/api/users/${seg(user!)}`, { allow: [404] })).status === 404) throw noSuchUser(user!);
      await change(ctx, "DELETE", name === "all" ? `/api/user-limits/${seg(user!)}` : `/api/user-limits/${seg(user!)}/${seg(name!)}`);
    },
  },
  {
    name: "list_user_limits",
    usage: "[<username>] [--global]",
    args: [0, 1],
    flags: ["--global"],
    async run(ctx, [named]) {
      if (ctx.flags.has("--global")) return listAll(ctx, "user");
      // As rabbitmqctl: without a user, the limits of the user the command runs as.
      const user = named ?? ctx.client.options.user;
      ctx.out.info(`Listing limits for user "${user}" ...`);
      const result = await ctx.client.request("GET", `/api/user-limits/${seg(user)}`, { allow: [404] });
      if (result.status === 404) throw noSuchUser(user);
      ctx.out.print(`${JSON.stringify(limitsOf(result.json))}\n`);
    },
  },
];
