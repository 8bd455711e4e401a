// What a `bun run ctl` verb is: its name, arguments and flags, and what it runs with (the API
// client, the output in the chosen format, the -p vhost).
import type { MgmtClient } from "./client.ts";
import type { Row } from "./format.ts";

export interface Output {
  /** --formatter json: commands with their own output shape print JSON. */
  readonly json: boolean;
  /** Informational lines (banners): dropped by --quiet and by --formatter json. */
  info(line: string): void;
  /** Command output, as it is. */
  print(text: string): void;
  /** A listing, as a table or JSON per --formatter. */
  rows(columns: readonly string[], rows: readonly Row[]): void;
}

export interface CommandContext {
  readonly client: MgmtClient;
  readonly out: Output;
  /** -p / --vhost, "/" by default. */
  readonly vhost: string;
  /** Verb-specific flags given, e.g. "--if-empty". */
  readonly flags: ReadonlySet<string>;
  /** Verb-specific options given with their values, e.g. "--priority" → "1". */
  readonly options: ReadonlyMap<string, string>;
}

export interface Command {
  readonly name: string;
  /** The arguments part of the usage line. */
  readonly usage: string;
  /** Fewest and most positional arguments. */
  readonly args: readonly [number, number];
  readonly flags?: readonly string[];
  /** Options that take a value (one of VALUE_OPTIONS). */
  readonly options?: readonly string[];
  run(ctx: CommandContext, args: string[]): Promise<void>;
}

/** Every verb-specific option that takes a value: parsed before the verb is known. */
export const VALUE_OPTIONS: ReadonlySet<string> = new Set(["--priority", "--apply-to"]);

export function usageLine(c: Command): string {
  return `bun run ctl [--host <host>] [--port <port>] [--user <user>] [--password <password>] [--quiet] ${c.name}${c.usage === "" ? "" : ` ${c.usage}`}`;
}
