// `bun run ctl <verb> [args]`: rabbitmqctl's verbs against a running Warren, through its
// management HTTP API. Where the server is: --host/--port (the management port), or
// WARREN_MGMT_URL (http://user:password@host:port); credentials: -u/--user, --password;
// defaults localhost:15672 guest/guest. -q/--quiet drops the informational lines, --formatter json
// prints listings as JSON, --no-table-headers drops the header line. Exit codes as rabbitmqctl:
// 64 usage, 65 data error, 67 no such user, 69 unreachable or not found, 70 failure, 77 refused.
import { usageLine, VALUE_OPTIONS, type Command, type Output } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import { MgmtClient, type ClientOptions } from "./client.ts";
import { CtlError, ExitCode, usageError } from "./errors.ts";
import { formatJson, formatTable } from "./format.ts";

interface Parsed {
  client: ClientOptions;
  quiet: boolean;
  json: boolean;
  headers: boolean;
  help: boolean;
  vhost: string;
  flags: Set<string>;
  options: Map<string, string>;
  positional: string[];
}

const GENERAL_USAGE = `usage: bun run ctl [--host <host>] [--port <port>] [-u|--user <user>] [--password <password>]
                   [-q|--quiet] [--formatter table|json] [--no-table-headers] [-t|--timeout <seconds>]
                   <command> [<command options>]
The server is found at --host/--port (its management API port, default localhost:15672) or at
WARREN_MGMT_URL (http://user:password@host:port). Commands:
`;

function defaults(env: Record<string, string | undefined>): ClientOptions {
  const options: ClientOptions = { host: "localhost", port: 15672, user: "guest", password: "guest", timeout_s: 60 };
  const url = env["WARREN_MGMT_URL"];
  if (url === undefined || url === "") return options;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CtlError(ExitCode.usage, `Error: WARREN_MGMT_URL is not a URL: ${url}`);
  }
  if (parsed.hostname !== "") options.host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (parsed.port !== "") options.port = Number(parsed.port);
  if (parsed.username !== "") options.user = decodeURIComponent(parsed.username);
  if (parsed.password !== "") options.password = decodeURIComponent(parsed.password);
  return options;
}

function parse(argv: readonly string[], env: Record<string, string | undefined>): Parsed {
  const p: Parsed = { client: defaults(env), quiet: false, json: false, headers: true, help: false, vhost: "/", flags: new Set(), options: new Map(), positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      p.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      p.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new CtlError(ExitCode.usage, `Error: option ${name} needs a value`);
      return v;
    };
    const integer = (): number => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new CtlError(ExitCode.usage, `Error: ${name} must be a positive integer, got '${v}'`);
      return n;
    };
    switch (name) {
      case "-q": case "--quiet": p.quiet = true; break;
      case "--no-table-headers": p.headers = false; break;
      case "-h": case "--help": p.help = true; break;
      case "--host": p.client.host = value(); break;
      case "--port": p.client.port = integer(); break;
      case "-u": case "--user": case "--username": p.client.user = value(); break;
      case "--password": p.client.password = value(); break;
      case "-t": case "--timeout": p.client.timeout_s = integer(); break;
      case "-p": case "--vhost": p.vhost = value(); break;
      case "--formatter": {
        const f = value();
        if (f !== "json" && f !== "table") throw new CtlError(ExitCode.usage, `Error: --formatter must be json or table, got '${f}'`);
        p.json = f === "json";
        break;
      }
      default:
        if (VALUE_OPTIONS.has(name)) p.options.set(name, value());
        else p.flags.add(name);
    }
  }
  return p;
}

function generalUsage(): string {
  return GENERAL_USAGE + [...COMMANDS.values()].map((c) => `  ${c.name}${c.usage === "" ? "" : ` ${c.usage}`}`).join("\n");
}

function checkArguments(command: Command, parsed: Parsed): string[] {
  const args = parsed.positional.slice(1);
  const [min, max] = command.args;
  if (args.length < min) throw usageError("not enough arguments.", usageLine(command));
  if (args.length > max) throw usageError("too many arguments.", usageLine(command));
  const unknown = [...parsed.flags].filter((f) => !(command.flags ?? []).includes(f)).concat([...parsed.options.keys()].filter((o) => !(command.options ?? []).includes(o)));
  if (unknown.length > 0) throw usageError(`unknown option ${unknown.join(", ")}`, usageLine(command));
  return args;
}

async function run(argv: readonly string[], write: (fd: 1 | 2, text: string) => void): Promise<number> {
  try {
    const parsed = parse(argv, process.env);
    const verb = parsed.positional[0];
    if (verb === undefined || verb === "help") {
      write(parsed.help || verb === "help" ? 1 : 2, `${generalUsage()}\n`);
      return parsed.help || verb === "help" ? ExitCode.ok : ExitCode.usage;
    }
    const command = COMMANDS.get(verb);
    if (command === undefined) throw new CtlError(ExitCode.usage, `\nCommand '${verb}' not found.\n\n${generalUsage()}`);
    if (parsed.help) {
      write(1, `${usageLine(command)}\n`);
      return ExitCode.ok;
    }
    const args = checkArguments(command, parsed);
    const out: Output = {
      json: parsed.json,
      info: (line) => {
        if (!parsed.quiet && !parsed.json) write(1, `${line}\n`);
      },
      print: (text) => write(1, text),
      rows: (columns, rows) => write(1, parsed.json ? formatJson(columns, rows) : formatTable(columns, rows, parsed.headers)),
    };
    const client = new MgmtClient(parsed.client);
    // Like rabbitmqctl reaching its node first: nothing is printed for a server that is not there.
    await client.request("GET", "/api/whoami");
    await command.run({ client, out, vhost: parsed.vhost, flags: parsed.flags, options: parsed.options }, args);
    return ExitCode.ok;
  } catch (error) {
    const failed = error instanceof CtlError ? error : new CtlError(ExitCode.software, `Error:\n${(error as Error).message}`);
    write(2, `${failed.stderr}\n`);
    return failed.exitCode;
  }
}

const code = await run(process.argv.slice(2), (fd, text) => void (fd === 1 ? process.stdout : process.stderr).write(text));
// Exit only once everything written has been handed to the OS: stdout may be a pipe.
await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((resolve) => s.write("", () => resolve()))));
process.exit(code);
