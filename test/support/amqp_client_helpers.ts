// Shared by the tests that talk to a broker through @cloudamqp/amqp-client: the broker an interop
// file runs against, and the small helpers those tests assert with.
import { afterAll, afterEach, beforeAll } from "bun:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import type { AMQPChannel, AMQPMessage } from "@cloudamqp/amqp-client";
import { startBroker, type BrokerProcess } from "./broker_process.ts";

/** The library exports no name for what AMQPClient.connect() resolves to. */
export type AMQPConnection = Awaited<ReturnType<AMQPClient["connect"]>>;

/**
 * Registers the calling test file's hooks: a fresh Warren process for the file, or the RabbitMQ at
 * INTEROP_REFERENCE_URL, so the same file can check the reference. Returns the file's connect():
 * its connections are closed after each test.
 */
export function interopBroker(): () => Promise<AMQPConnection> {
  let broker: BrokerProcess | undefined;
  let url = "";
  const open: AMQPConnection[] = [];
  beforeAll(async () => {
    const reference = process.env["INTEROP_REFERENCE_URL"];
    if (reference !== undefined) url = reference;
    else url = (broker = await startBroker()).url;
  });
  afterEach(async () => {
    for (const conn of open.splice(0)) if (!conn.closed) await conn.close().catch(() => {});
  });
  afterAll(async () => {
    await broker?.dispose();
  });
  return async () => {
    const conn = await new AMQPClient(url).connect();
    open.push(conn);
    return conn;
  };
}

/** Unique per run, so a file can also run against a long-lived reference broker. */
export function uniq(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** The message of a rejected promise (fails the test when it resolves). */
export async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected the operation to fail");
}

/** A confirm-mode channel: an awaited publish is in its queue when the promise resolves. */
export async function publisher(conn: AMQPConnection): Promise<AMQPChannel> {
  const ch = await conn.channel();
  await ch.confirmSelect();
  return ch;
}

export async function readyCount(ch: AMQPChannel, queue: string): Promise<number> {
  return (await ch.queueDeclare(queue, { passive: true })).messageCount;
}

/** basic.get (no-ack) until a message arrives (dead-lettering, expiry are asynchronous), or null after ~2 s. */
export async function arrival(ch: AMQPChannel, queue: string): Promise<AMQPMessage | null> {
  for (let i = 0; i < 100; i++) {
    const msg = await ch.basicGet(queue, { noAck: true });
    if (msg !== null) return msg;
    await Bun.sleep(20);
  }
  return null;
}

/** Takes every ready message with basic.get (no-ack): "body" or "body*" when redelivered. */
export async function drain(ch: AMQPChannel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const msg = await ch.basicGet(queue, { noAck: true });
    if (msg === null) return out;
    out.push(`${msg.bodyToString()}${msg.redelivered ? "*" : ""}`);
  }
}

/** Collects deliveries; waitFor resolves once `count` arrived (bounded by a timeout). */
export class Inbox {
  readonly messages: AMQPMessage[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  readonly push = (msg: AMQPMessage): void => {
    this.messages.push(msg);
    this.waiters = this.waiters.filter((w) => {
      if (this.messages.length < w.count) return true;
      w.resolve();
      return false;
    });
  };

  async waitFor(count: number, timeoutMs = 5000): Promise<AMQPMessage[]> {
    if (this.messages.length < count) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${count} deliveries, got ${this.messages.length}`)),
          timeoutMs,
        );
        this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
      });
    }
    return this.messages.slice(0, count);
  }

  bodies(): string[] {
    return this.messages.map((m) => m.bodyToString() ?? "");
  }
}
