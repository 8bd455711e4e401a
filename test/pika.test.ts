// The book's hello-world example ("RabbitMQ in Action") with Debian's python3-pika against
// Warren: a consumer that declares 'hello-queue', binds it to the durable direct exchange
// 'hello-exchange' with the key 'hola' and acks, and a producer publishing with confirms.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";

// Debian's interpreter: the python3 first on PATH may be another one without pika.
const PYTHON = "/usr/bin/python3";
const clients = join(import.meta.dir, "clients");
const hasPika = existsSync(PYTHON) && Bun.spawnSync([PYTHON, "-c", "import pika"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
if (!hasPika) console.log(`pika.test.ts: ${PYTHON} cannot import pika (apt-get install python3-pika); skipping the pika example`);

const PROCESS_TIMEOUT_MS = 10_000;

let broker: BrokerProcess | undefined;

beforeAll(async () => {
  if (hasPika) broker = await startBroker();
});

afterAll(async () => {
  await broker?.dispose();
});

/** A running Python client whose stdout lines can be awaited. */
class PyClient {
  readonly lines: string[] = [];
  private stderrText = "";
  private readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  private wake: (() => void) | null = null;

  constructor(script: string, args: string[]) {
    const proc = Bun.spawn([PYTHON, join(clients, script), ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    this.proc = proc;
    void this.pump();
    void (async () => {
      this.stderrText = await new Response(proc.stderr).text();
    })();
  }

  private async pump(): Promise<void> {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of this.proc.stdout) {
      partial += decoder.decode(chunk, { stream: true });
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      this.lines.push(...parts);
      this.wake?.();
    }
    if (partial !== "") this.lines.push(partial);
    this.wake?.();
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Resolves when a line equal to `line` has been printed; throws on exit or timeout. */
  async waitForLine(line: string, timeout_ms = PROCESS_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    while (!this.lines.includes(line)) {
      if (this.proc.exitCode !== null) throw new Error(`exited with ${this.proc.exitCode} before printing '${line}': ${this.lines.join(" | ")} ${this.stderrText}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no '${line}' within ${timeout_ms} ms: ${this.lines.join(" | ")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200)); // also re-checks the exit code
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** The exit code; kills the process and throws if it runs past the timeout. */
  async exited(timeout_ms = PROCESS_TIMEOUT_MS): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeout_ms);
    });
    const result = await Promise.race([this.proc.exited, timedOut]);
    clearTimeout(timer);
    if (result === "timeout") {
      this.proc.kill("SIGKILL");
      throw new Error(`still running after ${timeout_ms} ms: ${this.lines.join(" | ")}`);
    }
    await Bun.sleep(0); // let the stdout pump take the last lines
    return result;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
  }
}

test.skipIf(!hasPika)("the book's pika example: every message a confirming producer publishes reaches the consumer, in order, once", async () => {
  const b = broker!;
  const address = ["127.0.0.1", String(b.port)];
  const consumer = new PyClient("pika_hello_consumer.py", [...address, "15"]);
  try {
    // Consumer first: it declares and binds the queue, and says so once consume-ok is in.
    await consumer.waitForLine("CONSUMING");

    const bodies = ["Hello World!", "hola mundo", "¡olé! ünïcode ✓", "message 4", "last one"];
    const producer = new PyClient("pika_hello_producer.py", [...address, ...bodies, "quit"]);
    expect(await producer.exited()).toBe(0);
    expect(producer.lines).toEqual([...bodies, "quit"].map((body) => `CONFIRMED ${body}`));

    expect(await consumer.exited()).toBe(0);
    expect(consumer.lines).toEqual(["CONSUMING", ...bodies.map((body) => `MSG ${body}`), "DONE"]);
    expect(consumer.stderr + producer.stderr).not.toContain("Traceback");
  } finally {
    consumer.kill();
  }
  expect(b.log()).not.toContain("[error]");
}, 30_000);
