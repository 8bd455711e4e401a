// Runs one of the amqplib scenario scripts (test/clients/amqplib_*.mjs) under Node against a
// broker and indexes its JSON lines by check name, for the interop_amqplib_* tests.
import { runNode } from "../support/node_script.ts";

/** One check's observations, as the script printed them (minus the "check" key). */
export type Observed = Record<string, unknown>;

/** What an amqplib operation on a fresh channel gave: a value, or the error that closed the channel. */
export interface ChannelOutcome {
  ok: boolean;
  value?: unknown;
  error?: { code: number | null; message: string; classId: number | null; methodId: number | null };
  channelError?: { code: number | null; message: string; classId: number | null; methodId: number | null } | null;
  closed?: boolean;
}

export class ScenarioResults {
  constructor(
    private readonly checks: Map<string, Observed>,
    private readonly output: string,
  ) {}

  /** The observations of a check; fails with the script's output if it is missing or crashed. */
  get(name: string): Observed {
    const found = this.checks.get(name);
    if (found === undefined) throw new Error(`check '${name}' did not report; script output:\n${this.output}`);
    if (found["crashed"] !== undefined) throw new Error(`check '${name}' crashed: ${JSON.stringify(found["crashed"])}\n${this.output}`);
    return found;
  }

  /** A field of a check that holds a ChannelOutcome. */
  outcome(name: string, ...path: string[]): ChannelOutcome {
    let value: unknown = this.get(name);
    for (const key of path) {
      if (value === null || typeof value !== "object") throw new Error(`check '${name}' has no ${path.join(".")}`);
      value = (value as Record<string, unknown>)[key];
    }
    if (value === null || typeof value !== "object" || typeof (value as ChannelOutcome).ok !== "boolean") {
      throw new Error(`check '${name}' field ${path.join(".")} is not an outcome: ${JSON.stringify(value)}`);
    }
    return value as ChannelOutcome;
  }

  get completed(): boolean {
    return this.checks.has("done");
  }
}

/** `args` follow the URL on the script's command line. */
export async function runScenario(script: string, url: string, timeout_ms = 25_000, args: string[] = []): Promise<ScenarioResults> {
  const { code, stdout, stderr } = await runNode(`test/clients/${script}`, [url, ...args], timeout_ms);
  const output = `exit ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
  const checks = new Map<string, Observed>();
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue; // not one of ours (a library's warning)
    }
    if (parsed !== null && typeof parsed === "object" && typeof (parsed as Observed)["check"] === "string") {
      const { check, ...rest } = parsed as Observed & { check: string };
      checks.set(check, rest);
    }
  }
  return new ScenarioResults(checks, output);
}

/** How the server closed the channel in this outcome: reply code, reply text and the failing method. */
export function channelClosedWith(outcome: ChannelOutcome): { code: number | null; text: string; classId: number | null; methodId: number | null; closed: boolean } {
  const e = outcome.channelError ?? outcome.error;
  if (outcome.ok || e === undefined || e === null) {
    return { code: null, text: `not closed: ${JSON.stringify(outcome)}`, classId: null, methodId: null, closed: outcome.closed ?? false };
  }
  // amqplib's message: 'Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - ..."'.
  const match = /with message "(.*)"$/s.exec(e.message);
  return { code: e.code, text: match?.[1] ?? e.message, classId: e.classId, methodId: e.methodId, closed: outcome.closed ?? false };
}
