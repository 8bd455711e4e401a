// The most a Bun process can forward on this machine: a producer writes fixed-size messages as
// fast as its socket takes them to a forwarder process, which copies each chunk once (a broker must
// own the body it keeps) and writes it to a consumer; no framing, no parsing, no acks. Producer and
// consumer share this process, as the bench's generator does. Whatever a Bun broker does per
// message comes on top of this, so it bounds the large-body rows of `bun run bench`.
//
//   bun bench/forward_floor.ts [--bytes 65536] [--seconds 8] [--no-copy]
import { parseArgs } from "node:util";

const PROGRESS_EVERY_MS = 2_000;
const MAX_SECONDS = 120;
/** The producer hands its socket this many messages per write. */
const MESSAGES_PER_WRITE = 16;

interface Options {
  message_bytes: number;
  seconds: number;
  copy: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      bytes: { type: "string", default: "65536" },
      seconds: { type: "string", default: "8" },
      "no-copy": { type: "boolean", default: false },
      forward: { type: "string" },
    },
  });
  const message_bytes = Number(values.bytes);
  const seconds = Number(values.seconds);
  if (!Number.isInteger(message_bytes) || message_bytes < 1 || message_bytes > 128 * 1024 * 1024) throw new Error("--bytes: 1 .. 128 MiB");
  if (!(seconds > 0 && seconds <= MAX_SECONDS)) throw new Error(`--seconds: 0 .. ${MAX_SECONDS}`);
  return { message_bytes, seconds, copy: !values["no-copy"] };
}

/** The forwarder: the first connection is the consumer, the second the producer. */
function forward(copy: boolean): void {
  let consumer: Bun.Socket | null = null;
  let producer: Bun.Socket | null = null;
  const backlog: Uint8Array[] = [];
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        if (consumer === null) consumer = socket;
        else producer = socket;
      },
      data(socket, chunk) {
        if (socket !== producer || consumer === null) return;
        const owned = copy ? new Uint8Array(chunk) : chunk;
        if (backlog.length > 0) {
          backlog.push(owned);
          return;
        }
        const written = consumer.write(owned);
        if (written < owned.length) {
          backlog.push(owned.subarray(written));
          socket.pause();
        }
      },
      drain(socket) {
        if (socket !== consumer) return;
        while (backlog.length > 0) {
          const head = backlog[0]!;
          const written = socket.write(head);
          if (written < head.length) {
            backlog[0] = head.subarray(written);
            return;
          }
          backlog.shift();
        }
        producer?.resume();
      },
    },
  });
  console.log(server.port);
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the forwarder exited before it listened");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.slice(0, text.indexOf("\n"));
}

async function measure(o: Options): Promise<void> {
  const child = Bun.spawn([process.execPath, import.meta.path, "--forward", o.copy ? "copy" : "no-copy"], { stdout: "pipe", stderr: "inherit" });
  try {
    const port = Number(await firstLine(child.stdout));
    let received_bytes = 0;
    await Bun.connect({ hostname: "127.0.0.1", port, socket: { data(_s, chunk) { received_bytes += chunk.length; } } });
    await Bun.sleep(50); // the forwarder takes the first connection as the consumer
    const batch = new Uint8Array(o.message_bytes * MESSAGES_PER_WRITE);
    let stopped = false;
    const pump = (socket: Bun.Socket): void => {
      while (!stopped && socket.write(batch) === batch.length);
    };
    const producer = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, drain: pump } });
    const start_ms = performance.now();
    pump(producer);
    const cpuStart = process.cpuUsage();
    const progress = setInterval(() => {
      const s = (performance.now() - start_ms) / 1000;
      console.error(`${s.toFixed(0)} s: ${Math.round(received_bytes / o.message_bytes / s).toLocaleString("en-US")} messages/s`);
    }, PROGRESS_EVERY_MS);
    await Bun.sleep(o.seconds * 1000);
    stopped = true;
    clearInterval(progress);
    const elapsed_s = (performance.now() - start_ms) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const rate = received_bytes / o.message_bytes / elapsed_s;
    console.log(`${o.message_bytes}-byte messages through a Bun forwarder (${o.copy ? "one copy" : "no copy"}): ${Math.round(rate).toLocaleString("en-US")} messages/s, ${(received_bytes / elapsed_s / 2 ** 20).toFixed(0)} MiB/s; producer and consumer CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of ${elapsed_s.toFixed(1)} s`);
    producer.end();
  } finally {
    child.kill();
  }
}

async function main(): Promise<void> {
  const o = options();
  const forwardArg = Bun.argv.indexOf("--forward");
  if (forwardArg >= 0) return forward(Bun.argv[forwardArg + 1] === "copy");
  await measure(o);
}

await main();
