// Starts `bun run server` as a real process on a free port with a fresh data dir, the way a
// user would, and stops it. Interop tests talk to it through real client libraries.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export interface BrokerProcess {
  port: number;
  url: string;
  dataDir: string;
  /** stderr of the broker so far (log lines). */
  log(): string;
  /** SIGTERM (or the given signal) and wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Stops and removes the data dir. */
  dispose(): Promise<void>;
}

const projectRoot = join(import.meta.dir, "..", "..");

/**
 * Test brokers keep only a few ready messages of a queue in memory, so every test that queues more
 * than that also exercises paging to disk, and snapshot their journal index every 1,000 records, so
 * every restart after a kill recovers from a snapshot plus the records after it (a test's own
 * arguments come later and win).
 */
const TEST_BROKER_ARGS = ["--queue-window-messages", "8", "--queue-window-bytes", "65536", "--index-snapshot-records", "1000"];
const START_TIMEOUT_MS = 15_000;

export async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

export async function startBroker(options: { dataDir?: string; args?: string[] } = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "warren-test-"));
  const port = await freePort();
  const proc: Subprocess<"ignore", "ignore", "pipe"> = Bun.spawn(
    ["bun", "run", "server", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--mgmt-port", "0", "--prometheus-port", "0", ...TEST_BROKER_ARGS, ...(options.args ?? [])],
    // Its own process group: `bun run` starts the server as a child process, and a signal must
    // reach the server itself (a SIGKILL to the wrapper alone would leave the server running).
    { cwd: projectRoot, stdin: "ignore", stdout: "ignore", stderr: "pipe", detached: true },
  );
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-proc.pid, signal);
    } catch {
      // the group is already gone
    }
  };
  let stderr = "";
  const decoder = new TextDecoder();
  void (async () => {
    for await (const chunk of proc.stderr) stderr += decoder.decode(chunk);
  })();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!stderr.includes("Warren listening")) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      signalGroup("SIGKILL");
      throw new Error(`broker did not start (exit ${proc.exitCode}):\n${stderr}`);
    }
    await Bun.sleep(20);
  }
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    signalGroup(signal);
    const code = await proc.exited;
    // The wrapper can exit before the server: wait until no process of the group is left.
    for (let i = 0; i < 250; i++) {
      try {
        process.kill(-proc.pid, 0);
      } catch {
        break;
      }
      await Bun.sleep(20);
    }
    return code;
  };
  return {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    dataDir,
    log: () => stderr,
    stop,
    dispose: async () => {
      await stop();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
