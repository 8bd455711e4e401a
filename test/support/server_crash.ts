// The real server behind a BrokerProcess: the harness runs `bun run server`, which starts
// `bun src/main.ts` as a child. Tests that watch the server's memory, crash it (SIGKILL) or must
// leave no server behind need that child itself, found by its port and data dir.
import { readdirSync, readFileSync } from "node:fs";
import type { BrokerProcess } from "./broker_process.ts";

/** The pids of the `bun src/main.ts` processes serving this broker's port and data dir. */
export function serverPids(broker: BrokerProcess): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue; // the process ended meanwhile
    }
    const port = argv.indexOf("--port");
    const dir = argv.indexOf("--data-dir");
    if (argv.some((a) => a.endsWith("src/main.ts")) && port >= 0 && argv[port + 1] === String(broker.port) && dir >= 0 && argv[dir + 1] === broker.dataDir) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL of a server process that outlived it: a test leaves nothing running. */
export async function terminate(broker: BrokerProcess): Promise<void> {
  const pids = serverPids(broker);
  await broker.stop("SIGTERM");
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
}

/** SIGKILL of the server process (and its wrapper); resolves once the server is dead. */
export async function crash(broker: BrokerProcess): Promise<void> {
  const pids = serverPids(broker);
  if (pids.length === 0) throw new Error(`no server process found for port ${broker.port}`);
  for (const pid of pids) process.kill(pid, "SIGKILL");
  await broker.stop("SIGKILL");
  for (const deadline = Date.now() + 5000; pids.some(alive); await Bun.sleep(5)) {
    if (Date.now() > deadline) throw new Error(`server ${pids.join(",")} still alive after SIGKILL`);
  }
}
