// `bun run bench`: the load generator's command line. Without a target it starts Warren on a
// free port with a fresh data dir, runs every scenario and stops it; see usage below.
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { AmqpClient, parseAmqpUrl, type BrokerUrl } from "./amqp_client.ts";
import { CEILING_SCENARIOS, runCeiling } from "./ceiling.ts";
import { htmlReport } from "./html_report.ts";
import { compare, comparisonTable, jsonLine, resultsTable, type Comparison } from "./report.ts";
import { defaultScenarioOptions, findScenarios, type Scenario, type ScenarioOptions } from "./scenarios.ts";
import { listeningPid } from "./stats.ts";
import { startWarren, type WarrenProcess } from "./warren_process.ts";
import type { RunContext, ScenarioResult } from "./workload.ts";

const usage = `usage: bun run bench [options]
  (no target)          start Warren (bun run server) on a free port with a fresh data dir, run, stop it
  --target URL         run against that broker instead, e.g. amqp://guest:guest@127.0.0.1:5672/
  --compare URL        run Warren and that broker alternately (A/B per scenario), --rounds times,
                       and print the medians and the ratio Warren/other
  --ceiling            measure the generator itself against a local discard sink
  --scenario NAME      only these (repeatable, or a comma list); flood-publish-only runs only when named
  --duration S         publish window per scenario in seconds (default 10)
  --rounds N           rounds of --compare (default 3)
  --backlog N          messages in backlog-1m (default 1000000)
  --prefill N          messages pre-filled for consume-only (default 500000)
  --long-backlog N     messages of backlog-100m (default 100000000) and backlog-10m-transient
                       (default 10000000); both run only when named
  --rate N             total msg/s of connections-100 (default 10000)
  --flood S            seconds flood-publish-only publishes before its drain (default 60)
  --warren-arg ARG     pass ARG to the Warren it starts (repeatable), e.g. --warren-arg=--fsync=never
  --json               one JSON object per result line on stdout instead of the table
  --html FILE          also write the results (Warren beside the other broker with --compare) as a
                       standalone HTML page with bar charts
Progress goes to stderr once a second.`;

const DURATION_MAX_S = 3600;
const ROUNDS_MAX = 20;
const MESSAGES_MAX = 200_000_000;
const RATE_MAX_PER_S = 1_000_000;

interface Cli {
  target: string | null;
  compare: string | null;
  ceiling: boolean;
  json: boolean;
  html: string | null;
  scenarios: string[];
  duration_s: number;
  rounds: number;
  warrenArgs: string[];
  options: ScenarioOptions;
}

function parseCli(argv: readonly string[]): Cli {
  const cli: Cli = {
    target: null, compare: null, ceiling: false, json: false, html: null, scenarios: [], duration_s: 10, rounds: 3, warrenArgs: [],
    options: { ...defaultScenarioOptions },
  };
  const int = (name: string, raw: string, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer in 1..${max}, got '${raw}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const name = eq > 0 && arg.startsWith("--") ? arg.slice(0, eq) : arg;
    const value = () => {
      const v = eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "--help":
      case "-h":
        throw new Error(usage);
      case "--target": cli.target = value(); break;
      case "--compare": cli.compare = value(); break;
      case "--ceiling": cli.ceiling = true; break;
      case "--json": cli.json = true; break;
      case "--html": cli.html = value(); break;
      case "--scenario": cli.scenarios.push(...value().split(",").map((s) => s.trim()).filter((s) => s !== "")); break;
      case "--duration": cli.duration_s = int(name, value(), DURATION_MAX_S); break;
      case "--rounds": cli.rounds = int(name, value(), ROUNDS_MAX); break;
      case "--backlog": cli.options.backlog_messages = int(name, value(), MESSAGES_MAX); break;
      case "--prefill": cli.options.prefill_messages = int(name, value(), MESSAGES_MAX); break;
      case "--long-backlog": cli.options.longBacklog_messages = int(name, value(), MESSAGES_MAX); break;
      case "--rate": cli.options.connectionsRate_per_s = int(name, value(), RATE_MAX_PER_S); break;
      case "--flood": cli.options.flood_s = int(name, value(), DURATION_MAX_S); break;
      case "--warren-arg": cli.warrenArgs.push(value()); break;
      default:
        throw new Error(`unknown option ${arg}\n${usage}`);
    }
  }
  if ([cli.target, cli.compare, cli.ceiling || null].filter((x) => x !== null).length > 1) {
    throw new Error("--target, --compare and --ceiling exclude each other");
  }
  if (cli.ceiling && cli.html !== null) throw new Error("--html writes runs and comparisons, not --ceiling");
  return cli;
}

/** The pid to sample for a broker at url: only a broker on this machine can be found. */
function localPid(url: BrokerUrl): number | null {
  const loopback = url.host === "localhost" || url.host.startsWith("127.") || url.host === "[::1]" || url.host === "::1";
  return loopback ? listeningPid(url.port) : null;
}

/** A short name for the broker at url, from its connection.start product property. */
async function brokerLabel(url: BrokerUrl): Promise<string> {
  const client = await AmqpClient.connect(url, "probe");
  const label = client.serverProduct === "" ? `${url.host}:${url.port}` : client.serverProduct.toLowerCase();
  await client.close();
  return label;
}

async function main(): Promise<number> {
  let cli: Cli;
  let scenarios: Scenario[];
  try {
    cli = parseCli(process.argv.slice(2));
    scenarios = findScenarios(cli.ceiling && cli.scenarios.length === 0 ? CEILING_SCENARIOS : cli.scenarios);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 64;
  }
  const prefix = `bench-${process.pid}-${Date.now().toString(36)}`;
  const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
  const header = `# ${new Date().toISOString()} duration ${cli.duration_s} s, load average at start ${load()}`;
  const emit = (r: ScenarioResult) => {
    if (cli.json) process.stdout.write(`${jsonLine({ kind: "run", ...r })}\n`);
  };
  const base = { duration_s: cli.duration_s, prefix };

  let warren: WarrenProcess | null = null;
  const stopWarren = async () => {
    const w = warren;
    warren = null;
    await w?.stop();
  };
  process.on("SIGINT", () => {
    void stopWarren().finally(() => process.exit(130));
  });

  try {
    if (cli.ceiling) {
      const results = await runCeiling(scenarios, base, cli.options, emit);
      if (!cli.json) {
        const limits = results.map((r) => `${r.scenario} ${Math.round(r.throughput_per_s).toLocaleString("en-US")} ${r.throughput_unit}`);
        process.stdout.write(`${header}\n# generator ceiling against a discard sink (the sink's RSS/CPU in the broker columns)\n` +
          `${resultsTable(results)}\n\ngenerator limit: ${limits.join("; ")}\n# load average at end ${load()}\n`);
      }
      return 0;
    }

    if (cli.compare !== null) {
      const otherUrl = parseAmqpUrl(cli.compare);
      const otherName = await brokerLabel(otherUrl);
      const otherPid = localPid(otherUrl);
      warren = await startWarren(cli.warrenArgs);
      const warrenUrl = parseAmqpUrl(warren.url);
      const rounds = new Map<string, { warren: ScenarioResult[]; other: ScenarioResult[] }>();
      for (const s of scenarios) rounds.set(s.name, { warren: [], other: [] });
      for (let round = 1; round <= cli.rounds; round++) {
        for (const s of scenarios) {
          const ctx = (url: BrokerUrl, broker: string, brokerPid: number | null): RunContext =>
            ({ ...base, url, broker, brokerPid, prefix: `${prefix}.r${round}`, restartable: broker === "warren" ? warren : null });
          const a = await s.run(ctx(warrenUrl, "warren", warren.pid), cli.options);
          emit(a);
          const b = await s.run(ctx(otherUrl, otherName, otherPid), cli.options);
          emit(b);
          rounds.get(s.name)!.warren.push(a);
          rounds.get(s.name)!.other.push(b);
        }
      }
      const comparisons: Comparison[] = scenarios.map((s) => compare(rounds.get(s.name)!.warren, rounds.get(s.name)!.other));
      const title = `Warren vs ${otherName} at ${cli.compare}, ${cli.rounds} rounds A/B, medians`;
      if (cli.json) for (const c of comparisons) process.stdout.write(`${jsonLine({ kind: "compare", ...c })}\n`);
      else process.stdout.write(`${header}\n# ${title}\n${comparisonTable(comparisons)}\n# load average at end ${load()}\n`);
      if (cli.html !== null) writeFileSync(cli.html, htmlReport(`${header.slice(2)}; ${title}`, { comparisons }));
      return 0;
    }

    let url: BrokerUrl;
    let broker: string;
    let pid: number | null;
    if (cli.target !== null) {
      url = parseAmqpUrl(cli.target);
      broker = await brokerLabel(url);
      pid = localPid(url);
    } else {
      warren = await startWarren(cli.warrenArgs);
      url = parseAmqpUrl(warren.url);
      broker = "warren";
      pid = warren.pid;
    }
    const results: ScenarioResult[] = [];
    for (const s of scenarios) {
      const r = await s.run({ ...base, url, broker, brokerPid: pid, restartable: warren }, cli.options);
      results.push(r);
      emit(r);
    }
    if (!cli.json) process.stdout.write(`${header}\n${resultsTable(results)}\n# load average at end ${load()}\n`);
    if (cli.html !== null) writeFileSync(cli.html, htmlReport(`${header.slice(2)}; ${broker} at ${url.host}:${url.port}`, { results }));
    return 0;
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await stopWarren();
  }
}

process.exit(await main());
