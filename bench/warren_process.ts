// Starts Warren the way a user does (`bun run server`) on a free loopback port with a fresh temp
// data dir, finds the process that actually serves (bun run starts `bun src/main.ts` as a child)
// for RSS/CPU sampling, and stops it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listeningPid } from "./stats.ts";

const PROJECT_ROOT = join(import.meta.dir, "..");
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
/** Broker stderr kept for error messages. */
const LOG_KEEP_BYTES = 16 * 1024;

export interface WarrenProcess extends RestartableBroker {
  url: string;
  port: number;
  /** The serving process (the one listening), or null if it cannot be found. */
  pid: number | null;
  /** The last lines the broker logged. */
  log(): string;
  stop(): Promise<void>;
}

/** A broker the bench started itself, so a scenario may restart it and read its data dir. */
export interface RestartableBroker {
  readonly dataDir: string;
  /** Stops the broker gracefully and starts it again on the same port and data dir. */
  restart(): Promise<RestartTiming>;
}

export interface RestartTiming {
  /** From starting the new process until its AMQP port accepts a connection. */
  port_ms: number;
  pid: number | null;
}

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export async function startWarren(extraArgs: readonly string[]): Promise<WarrenProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "warren-bench-"));
  const port = await freePort();
  let server = await spawnServer(port, dataDir, extraArgs);
  const warren: WarrenProcess = {
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    port,
    dataDir,
    pid: server.pid,
    log: () => server.log(),
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      await server.stop();
      const start = performance.now();
      server = await spawnServer(port, dataDir, extraArgs, () => portAnswers(port));
      warren.pid = server.pid;
      return { port_ms: server.ready_ms - start, pid: server.pid };
    },
  };
  return warren;
}

interface ServerProcess {
  pid: number | null;
  /** performance.now() when the server was seen ready. */
  ready_ms: number;
  log(): string;
  stop(): Promise<void>;
}

/** Spawns `bun run server` and waits until `ready()` (by default: it logged that it listens). */
async function spawnServer(port: number, dataDir: string, extraArgs: readonly string[], ready?: () => Promise<boolean>): Promise<ServerProcess> {
  const proc = Bun.spawn(
    ["bun", "run", "server", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--mgmt-port", "0", "--prometheus-port", "0", ...extraArgs],
    { cwd: PROJECT_ROOT, stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  let log = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stderr) log = (log + decoder.decode(chunk)).slice(-LOG_KEEP_BYTES);
  })();
  const deadline = Date.now() + START_TIMEOUT_MS;
  const isReady = ready ?? (async () => log.includes("Warren listening"));
  while (!(await isReady())) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`Warren did not start (exit ${proc.exitCode}):\n${log}`);
    }
    await Bun.sleep(ready === undefined ? 50 : 5);
  }
  const ready_ms = performance.now();
  const serverPid = listeningPid(port) ?? childPid(proc.pid);
  return {
    pid: serverPid,
    ready_ms,
    log: () => log,
    stop: async () => {
      // SIGTERM to the server itself: it closes its clients and flushes its journals, then bun run exits.
      const target = serverPid ?? proc.pid;
      try {
        process.kill(target, "SIGTERM");
      } catch {
        // Already gone.
      }
      const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!exited) {
        for (const p of new Set([target, proc.pid])) {
          try {
            process.kill(p, "SIGKILL");
          } catch {
            // Already gone.
          }
        }
        await proc.exited;
      }
    },
  };
}

/** Whether a TCP connection to the port is accepted now. */
async function portAnswers(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return true;
  } catch {
    return false;
  }
}

/** The first child of pid (bun run's `bun src/main.ts`), or null. */
function childPid(pid: number): number | null {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ")[0];
    return first === undefined || first === "" ? null : Number(first);
  } catch {
    return null;
  }
}
