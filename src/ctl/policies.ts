// set_policy / clear_policy and set_operator_policy / clear_operator_policy, with rabbitmqctl
// 3.10's banners, texts and exit codes (69 for a refused or missing policy, as rabbitmqctl), through
// /api/policies and /api/operator-policies. The listings are in listings.ts.
import { reasonOf, seg } from "./client.ts";
import { usageLine, type Command } from "./command.ts";
import { CtlError, ExitCode, failure, usageError } from "./errors.ts";

interface KindText {
  verb: "policy" | "operator_policy";
  path: string;
  /** "policy" / "operator policy override" in the set banner, "policy" / "operator policy" in the clear one. */
  setName: string;
  clearName: string;
}

const KINDS: KindText[] = [
  { verb: "policy", path: "/api/policies", setName: "policy", clearName: "policy" },
  { verb: "operator_policy", path: "/api/operator-policies", setName: "operator policy override", clearName: "operator policy" },
];

/** The API HTML-escapes a policy's validation text; rabbitmqctl prints it plain. */
function unescapeHtml(text: string): string {
  return text.replace(/&(lt|gt|amp);/g, (_m, e: string) => (e === "lt" ? "<" : e === "gt" ? ">" : "&"));
}

function setCommand(kind: KindText): Command {
  const command: Command = {
    name: `set_${kind.verb}`,
    usage: "[--vhost <vhost>] [--priority <priority>] [--apply-to <apply-to>] <name> <pattern> <definition>",
    args: [3, 3],
    options: ["--priority", "--apply-to"],
    async run(ctx, [name, pattern, definition]) {
      const priorityText = ctx.options.get("--priority") ?? "0";
      const priority = Number(priorityText);
      if (!/^-?[0-9]+$/.test(priorityText)) throw usageError(`Invalid options for this command:\n--priority : ${priorityText}`, usageLine(command));
      ctx.out.info(`Setting ${kind.setName} "${name}" for pattern "${pattern}" to "${definition}" with priority "${priority}" for vhost "${ctx.vhost}" ...`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(definition!);
      } catch {
        throw failure(ExitCode.unavailable, "JSON decoding error. Reason: badarg");
      }
      const applyTo = ctx.options.get("--apply-to");
      const body = { pattern, definition: parsed, priority, ...(applyTo === undefined ? {} : { "apply-to": applyTo }) };
      const result = await ctx.client.request("PUT", `${kind.path}/${seg(ctx.vhost)}/${seg(name!)}`, { body, allow: [400, 404] });
      if (result.status === 404) throw new CtlError(ExitCode.dataErr, `Virtual host '${ctx.vhost}' does not exist`);
      if (result.status === 400) throw failure(ExitCode.unavailable, unescapeHtml(reasonOf(result)));
    },
  };
  return command;
}

function clearCommand(kind: KindText): Command {
  return {
    name: `clear_${kind.verb}`,
    usage: "[--vhost <vhost>] <name>",
    args: [1, 1],
    async run(ctx, [name]) {
      ctx.out.info(`Clearing ${kind.clearName} "${name}" on vhost "${ctx.vhost}" ...`);
      const result = await ctx.client.request("DELETE", `${kind.path}/${seg(ctx.vhost)}/${seg(name!)}`, { allow: [404] });
      if (result.status === 404) throw failure(ExitCode.unavailable, "Parameter does not exist");
    },
  };
}

export const policyCommands: Command[] = KINDS.flatMap((kind) => [setCommand(kind), clearCommand(kind)]);
