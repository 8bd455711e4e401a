// Crash test: a producer publishes numbered persistent messages with confirms (a window of a few
// hundred in flight) into a durable queue while a consumer on another connection consumes and
// acks them; the server process is SIGKILLed at a seeded random moment and restarted on the same
// data dir, 20 rounds. After each restart the queue is drained and checked against what the
// clients saw before the kill:
//
// - lost: a message whose confirm the producer received and whose ack the consumer had not sent
//   must be in the queue. None may be lost.
// - duplicates: a message whose ack the consumer had sent that is in the queue again. Acks are
//   journaled but not waited for (README, "Durability"), so the acks of the last group commit
//   before the crash may not be on disk: allowed, but only for acks sent in the round that was
//   killed, within ACK_WINDOW_MS of the kill. An older ack coming back means an ack was lost.
// - no message that was never published, none twice, and the queue in publish (FIFO) order.
//
// Set CRASH_SEED to replay another sequence of kill moments.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AMQPClient } from "@cloudamqp/amqp-client";
import type { AMQPChannel } from "@cloudamqp/amqp-client";
import type { AMQPConnection } from "./support/amqp_client_helpers.ts";
import { startBroker, type BrokerProcess } from "./support/broker_process.ts";
import { mulberry32 } from "./support/seeded_random.ts";
import { crash, terminate } from "./support/server_crash.ts";

const ROUNDS = 20;
const KILL_AFTER_MIN_MS = 100;
const KILL_AFTER_MAX_MS = 700;
const CONFIRM_WINDOW = 300;
const PREFETCH = 500;
/** How long before the kill an ack may have been sent and still come back (see the top). */
const ACK_WINDOW_MS = 250;
const QUEUE = "crash.q";
const SEED = Number(process.env["CRASH_SEED"] ?? 0x5eed2024);

// --- helpers -------------------------------------------------------------------------------

async function connect(broker: BrokerProcess): Promise<AMQPConnection> {
  const conn = await new AMQPClient(broker.url).connect();
  conn.onerror = () => {}; // the crash drops it
  return conn;
}

/** Every message in the queue, consumed with no-ack; the producer and consumer are not running. */
async function drainQueue(ch: AMQPChannel): Promise<{ body: string; redelivered: boolean }[]> {
  const count = (await ch.queueDeclare(QUEUE, { passive: true })).messageCount;
  const got: { body: string; redelivered: boolean }[] = [];
  if (count === 0) return got;
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const consumer = await ch.basicConsume(QUEUE, { noAck: true }, (m) => {
    got.push({ body: m.bodyToString() ?? "", redelivered: m.redelivered });
    if (got.length === count) done();
  });
  const timer = setTimeout(done, 10_000);
  await all;
  clearTimeout(timer);
  await consumer.cancel();
  expect(got.length).toBe(count);
  return got;
}

interface AckRecord {
  round: number;
  at_ms: number;
}

interface RoundFigures {
  round: number;
  killAfter_ms: number;
  published: number;
  confirmed: number;
  acked: number;
  /** Delivered to the consumer and not acked when the server died. */
  unackedAtKill: number;
  /** In the queue after the restart. */
  recovered: number;
  redelivered: number;
  /** Recovered although the producer never got their confirm (they reached the disk in time). */
  unconfirmedRecovered: number;
  duplicates: number;
  /** Of the duplicates: how long before the kill the oldest one's ack was sent. */
  maxDuplicateAckAge_ms: number;
  lost: number;
}

// --- the test --------------------------------------------------------------------------------

const dataDir = mkdtempSync(join(tmpdir(), "warren-crash-"));
let broker: BrokerProcess | undefined;

afterAll(async () => {
  if (broker !== undefined) await terminate(broker);
  rmSync(dataDir, { recursive: true, force: true });
});

test(`${ROUNDS} rounds of SIGKILL under confirmed publishing and acking lose no confirmed message`, async () => {
  const random = mulberry32(SEED);
  let nextNumber = 0;
  const published = new Set<number>();
  const confirmed = new Set<number>();
  /** Numbers the consumer sent an ack for (or drained with no-ack), with when and in which round. */
  const acked = new Map<number, AckRecord>();
  const figures: RoundFigures[] = [];
  const problems: string[] = [];

  broker = await startBroker({ dataDir });
  {
    const ch = await (await connect(broker)).channel();
    await ch.queueDeclare(QUEUE, { durable: true });
  }

  for (let round = 1; round <= ROUNDS; round++) {
    const killAfter_ms = Math.round(KILL_AFTER_MIN_MS + random() * (KILL_AFTER_MAX_MS - KILL_AFTER_MIN_MS));
    const before = { published: published.size, confirmed: confirmed.size };
    let killed = false;
    let killAt_ms = Infinity;
    const unacked = new Set<number>();
    let ackedThisRound = 0;

    // Consumer: acks every delivery at once, one by one, until the kill.
    const consumerCh = await (await connect(broker)).channel();
    await consumerCh.basicQos(PREFETCH);
    await consumerCh.basicConsume(QUEUE, { noAck: false }, (m) => {
      if (killed) return;
      const body = m.bodyToString() ?? "";
      if (body.startsWith("b")) {
        void consumerCh.basicAck(m.deliveryTag).catch(() => {});
        return;
      }
      acked.set(Number(body), { round, at_ms: performance.now() });
      ackedThisRound++;
      void consumerCh.basicAck(m.deliveryTag).catch(() => {});
    });

    // Producer: numbered persistent publishes, at most CONFIRM_WINDOW awaiting their confirm.
    const producerCh = await (await connect(broker)).channel();
    await producerCh.confirmSelect();
    let inflight = 0;
    let wake: (() => void) | undefined;
    const producer = (async () => {
      while (!killed) {
        if (inflight >= CONFIRM_WINDOW) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        const n = nextNumber++;
        published.add(n);
        inflight++;
        producerCh.basicPublish("", QUEUE, String(n), { deliveryMode: 2 }).then(
          () => {
            confirmed.add(n);
            inflight--;
            wake?.();
          },
          () => {},
        );
      }
    })();

    await Bun.sleep(killAfter_ms);
    killed = true;
    killAt_ms = performance.now();
    wake?.();
    await crash(broker);
    await producer;
    if (broker.log().includes("[error]")) problems.push(`round ${round}: server log has errors:\n${broker.log()}`);

    // Confirmed and not acked (delivered or not): these must come back.
    for (let n = before.published; n < nextNumber; n++) if (published.has(n) && !acked.has(n) && confirmed.has(n)) unacked.add(n);

    broker = await startBroker({ dataDir });
    const inspectCh = await (await connect(broker)).channel();
    const recovered = await drainQueue(inspectCh);

    let duplicates = 0;
    let redelivered = 0;
    let unconfirmedRecovered = 0;
    let maxDuplicateAckAge_ms = 0;
    let previous = -1;
    const present = new Set<number>();
    for (const { body, redelivered: again } of recovered) {
      if (body.startsWith("b")) continue; // an earlier round's barrier whose ack didn't stick
      const n = Number(body);
      if (!published.has(n)) problems.push(`round ${round}: message ${JSON.stringify(body)} was never published`);
      if (present.has(n)) problems.push(`round ${round}: message ${n} is in the queue twice`);
      if (n <= previous) problems.push(`round ${round}: message ${n} after ${previous}: not in publish order`);
      previous = n;
      present.add(n);
      if (again) redelivered++;
      if (!confirmed.has(n)) unconfirmedRecovered++;
      const ack = acked.get(n);
      if (ack !== undefined) {
        duplicates++;
        const age = killAt_ms - ack.at_ms;
        maxDuplicateAckAge_ms = Math.max(maxDuplicateAckAge_ms, age);
        if (ack.round !== round) problems.push(`round ${round}: message ${n} acked in round ${ack.round} came back`);
        else if (age > ACK_WINDOW_MS) problems.push(`round ${round}: message ${n} acked ${age.toFixed(0)} ms before the kill came back`);
      }
    }
    let lost = 0;
    for (const n of confirmed) {
      if (acked.has(n) || present.has(n)) continue;
      lost++;
      if (lost <= 10) problems.push(`round ${round}: message ${n} was confirmed, never acked, and is gone`);
    }
    // The drain took them out for good: from now on they count as acked (by the drain).
    const drained_ms = performance.now();
    for (const n of present) acked.set(n, { round: round + 1, at_ms: drained_ms });
    // A barrier: the drain's no-ack removals are journaled but not waited for; this confirmed
    // publish to the same queue makes them durable before the next round can be killed.
    const barrierCh = await (await connect(broker)).channel();
    await barrierCh.confirmSelect();
    await barrierCh.basicPublish("", QUEUE, `b${round}`, { deliveryMode: 2 });

    figures.push({
      round,
      killAfter_ms,
      published: published.size - before.published,
      confirmed: confirmed.size - before.confirmed,
      acked: ackedThisRound,
      unackedAtKill: unacked.size,
      recovered: present.size,
      redelivered,
      unconfirmedRecovered,
      duplicates,
      maxDuplicateAckAge_ms,
      lost,
    });
  }

  const total = (key: keyof RoundFigures): number => figures.reduce((sum, f) => sum + f[key], 0);
  const line = (f: Record<string, string | number>): string => Object.values(f).map((v) => String(v).padStart(9)).join(" ");
  const header = { round: "round", kill: "kill ms", published: "published", confirmed: "confirmed", acked: "acked", unacked: "unacked", recovered: "recovered", redeliv: "redeliv", unconf: "unconf", dups: "dups", dupAge: "dup age", lost: "lost" };
  const rows = figures.map((f) =>
    line({
      round: f.round,
      kill: f.killAfter_ms,
      published: f.published,
      confirmed: f.confirmed,
      acked: f.acked,
      unacked: f.unackedAtKill,
      recovered: f.recovered,
      redeliv: f.redelivered,
      unconf: f.unconfirmedRecovered,
      dups: f.duplicates,
      dupAge: f.duplicates === 0 ? "-" : `${f.maxDuplicateAckAge_ms.toFixed(1)}`,
      lost: f.lost,
    }),
  );
  const totals = line({
    round: "total",
    kill: "",
    published: total("published"),
    confirmed: total("confirmed"),
    acked: total("acked"),
    unacked: total("unackedAtKill"),
    recovered: total("recovered"),
    redeliv: total("redelivered"),
    unconf: total("unconfirmedRecovered"),
    dups: total("duplicates"),
    dupAge: `${Math.max(...figures.map((f) => f.maxDuplicateAckAge_ms)).toFixed(1)}`,
    lost: total("lost"),
  });
  console.log(
    [
      `crash test, seed ${SEED}: ${ROUNDS} SIGKILLs ${KILL_AFTER_MIN_MS}-${KILL_AFTER_MAX_MS} ms into each round, confirm window ${CONFIRM_WINDOW}, prefetch ${PREFETCH}`,
      "(unacked: confirmed, delivered or not, ack not sent at the kill; unconf: recovered without a confirm; dup age: ms between the oldest duplicate's ack and the kill)",
      line(header),
      ...rows,
      totals,
    ].join("\n"),
  );

  expect(problems).toEqual([]);
  expect(total("lost")).toBe(0);
  expect(total("confirmed")).toBeGreaterThan(ROUNDS * 100); // the rounds did real work
}, 90_000);
