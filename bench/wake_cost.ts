// What one cross-thread wake-up costs on this machine: the price a message pays at each ring hop
// whose reader is asleep (acceptor -> shard, shard -> acceptor). A sleeping thread is woken the way
// Warren's rings do it (Atomics.waitAsync on the far side, Atomics.notify here) once every 1-2 ms,
// so the sleeper is parked every time; the table shows what the notify call costs the waker and
// how long the sleeper takes to run, in both directions.
//
//   bun bench/wake_cost.ts [--samples N]
const SAMPLES_DEFAULT = 2000;
const SAMPLES_MAX = 100_000;
/** Slots of the shared words: the counter slept on, "parked" flag, and the two stamps. */
const COUNTER = 0;
const PARKED = 1;

/** The sleeper: parks in Atomics.waitAsync and records how long after the notify it ran. */
function sleeperLoop(sab: SharedArrayBuffer, samples: number, report: (s: number[]) => void): void {
  const i32 = new Int32Array(sab, 0, 4);
  const sent = new Float64Array(sab, 16, 1);
  const wake_us: number[] = [];
  let seen = 0;
  const sleep = (): void => {
    Atomics.store(i32, PARKED, 1);
    const result = Atomics.waitAsync(i32, COUNTER, seen);
    const woke = (): void => {
      wake_us.push((performance.timeOrigin + performance.now() - sent[0]!) * 1000);
      seen = Atomics.load(i32, COUNTER);
      if (wake_us.length === samples) report(wake_us);
      else sleep();
    };
    if (result.async) void result.value.then(woke);
    else woke();
  };
  sleep();
}

/** The waker: every 1-2 ms, once the sleeper is parked, bumps the counter and notifies. */
function wakerLoop(sab: SharedArrayBuffer, samples: number, done: (notify_us: number[]) => void): void {
  const i32 = new Int32Array(sab, 0, 4);
  const sent = new Float64Array(sab, 16, 1);
  const notify_us: number[] = [];
  const tick = (): void => {
    if (Atomics.load(i32, PARKED) !== 1) {
      setTimeout(tick, 0);
      return;
    }
    Atomics.store(i32, PARKED, 0);
    sent[0] = performance.timeOrigin + performance.now();
    Atomics.add(i32, COUNTER, 1);
    const t0 = performance.now();
    Atomics.notify(i32, COUNTER);
    notify_us.push((performance.now() - t0) * 1000);
    if (notify_us.length === samples) done(notify_us);
    else setTimeout(tick, 1 + Math.random());
  };
  setTimeout(tick, 10);
}

declare const self: Worker;

if (!Bun.isMainThread) {
  self.onmessage = (event: MessageEvent) => {
    const { sab, samples, role } = event.data as { sab: SharedArrayBuffer; samples: number; role: "sleeper" | "waker" };
    if (role === "sleeper") sleeperLoop(sab, samples, (wake_us) => postMessage({ wake_us }));
    else wakerLoop(sab, samples, (notify_us) => postMessage({ notify_us }));
  };
} else if (import.meta.main) {
  const samples = parseSamples(process.argv.slice(2));
  const worker = new Worker(import.meta.url);
  const fromWorker = (): Promise<Record<string, number[]>> =>
    new Promise((resolve) => worker.addEventListener("message", (e: MessageEvent) => resolve(e.data as Record<string, number[]>), { once: true }));

  // Acceptor -> shard: this thread notifies, the worker sleeps.
  const toShard = new SharedArrayBuffer(32);
  const shardWoke = fromWorker();
  worker.postMessage({ sab: toShard, samples, role: "sleeper" });
  const notifyToShard = await new Promise<number[]>((resolve) => wakerLoop(toShard, samples, resolve));
  const wakeShard = (await shardWoke)["wake_us"]!;

  // Shard -> acceptor: the worker notifies, this thread sleeps.
  const toAcceptor = new SharedArrayBuffer(32);
  const workerNotified = fromWorker();
  const acceptorWoke = new Promise<number[]>((resolve) => sleeperLoop(toAcceptor, samples, resolve));
  worker.postMessage({ sab: toAcceptor, samples, role: "waker" });
  const wakeAcceptor = await acceptorWoke;
  const notifyToAcceptor = (await workerNotified)["notify_us"]!;
  worker.terminate();

  const row = (label: string, xs: number[]): string => {
    const sorted = [...xs].sort((a, b) => a - b);
    const cell = (q: number): string => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1).padStart(8);
    return `${label.padEnd(40)}${cell(0.5)}${cell(0.9)}${cell(0.99)}${sorted[sorted.length - 1]!.toFixed(1).padStart(8)}`;
  };
  process.stdout.write(
    `# ${samples} wake-ups each way, sleeper parked in Atomics.waitAsync; microseconds\n` +
      `${"".padEnd(40)}${"p50".padStart(8)}${"p90".padStart(8)}${"p99".padStart(8)}${"max".padStart(8)}\n` +
      `${row("acceptor -> shard: notify call", notifyToShard)}\n` +
      `${row("acceptor -> shard: until shard runs", wakeShard)}\n` +
      `${row("shard -> acceptor: notify call", notifyToAcceptor)}\n` +
      `${row("shard -> acceptor: until acceptor runs", wakeAcceptor)}\n`,
  );
}

function parseSamples(argv: string[]): number {
  const at = argv.indexOf("--samples");
  if (at < 0) return SAMPLES_DEFAULT;
  const n = Number(argv[at + 1]);
  if (!Number.isInteger(n) || n < 1 || n > SAMPLES_MAX) throw new Error(`--samples must be an integer 1..${SAMPLES_MAX}`);
  return n;
}
