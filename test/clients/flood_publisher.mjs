// An unthrottled publisher on a raw socket: 16-byte messages to one queue (declared non-durable)
// as fast as the socket takes them, no confirms, for SECONDS; then prints {"published": N,
// "consumed": N} and exits. Node's socket buffers stop it only when the broker stops reading.
// With "consume", a second connection consumes the queue as RabbitMQ's PerfTest does (prefetch
// 1000, a multiple ack every 500). Usage: node flood_publisher.mjs PORT QUEUE SECONDS [consume]
import net from "node:net";

const [port, queue, seconds] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const withConsumer = process.argv[5] === "consume";
const shortstr = (s) => Buffer.concat([Buffer.from([Buffer.byteLength(s)]), Buffer.from(s)]);
const longstr = (b) => Buffer.concat([u32(b.length), b]);
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const frame = (type, channel, payload) => {
  const head = Buffer.alloc(7);
  head.writeUInt8(type, 0); head.writeUInt16BE(channel, 1); head.writeUInt32BE(payload.length, 3);
  return Buffer.concat([head, payload, Buffer.from([0xce])]);
};
const method = (channel, cls, mth, args) => frame(1, channel, Buffer.concat([u16(cls), u16(mth), ...args]));

let published = 0;
let consumed = 0;
let running = true;

/** Opens a connection and channel 1, declares the queue; then onFrame sees every frame. */
function open(onOpen, onFrame = () => {}) {
  const sock = net.connect({ host: "127.0.0.1", port });
  let buf = Buffer.alloc(0);
  let opened = false;
  sock.on("error", () => {});
  sock.on("connect", () => sock.write(Buffer.from("AMQP\x00\x00\x09\x01", "latin1")));
  sock.on("data", (d) => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    let at = 0;
    while (buf.length - at >= 8 && buf.length - at >= 8 + buf.readUInt32BE(at + 3)) {
      const size = buf.readUInt32BE(at + 3);
      const type = buf[at];
      const payload = buf.subarray(at + 7, at + 7 + size);
      at += 8 + size;
      if (opened) { onFrame(type, payload); continue; }
      const c = payload.readUInt16BE(0), m = payload.readUInt16BE(2);
      if (c === 10 && m === 10) sock.write(method(0, 10, 11, [u32(0), shortstr("PLAIN"), longstr(Buffer.from("\0guest\0guest")), shortstr("en_US")]));
      else if (c === 10 && m === 30) {
        sock.write(method(0, 10, 31, [u16(2047), u32(131072), u16(0)]));
        sock.write(method(0, 10, 40, [shortstr("/"), shortstr(""), Buffer.from([0])]));
      } else if (c === 10 && m === 41) sock.write(method(1, 20, 10, [shortstr("")]));
      else if (c === 20 && m === 11) sock.write(method(1, 50, 10, [u16(0), shortstr(queue), Buffer.from([0]), u32(0)]));
      else if (c === 50 && m === 11) { opened = true; onOpen(sock); }
    }
    buf = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
  });
}

function consume(sock) {
  let lastTag = 0n, acked = 0n;
  sock.write(method(1, 60, 10, [u32(0), u16(1000), Buffer.from([0])]));
  sock.write(method(1, 60, 20, [u16(0), shortstr(queue), shortstr(""), Buffer.from([0]), u32(0)]));
  return (type, payload) => {
    if (type === 1 && payload.readUInt16BE(0) === 60 && payload.readUInt16BE(2) === 60) lastTag = payload.readBigUInt64BE(5 + payload[4]);
    if (type !== 3) return;
    consumed++;
    if (lastTag - acked >= 500n) { sock.write(method(1, 60, 80, [u64(lastTag), Buffer.from([1])])); acked = lastTag; }
  };
}

if (withConsumer) {
  let handler = () => {};
  open((sock) => { handler = consume(sock); open(start); }, (type, payload) => handler(type, payload));
} else {
  open(start);
}

function start(sock) {
  const body = Buffer.alloc(16, 0x61);
  const one = Buffer.concat([
    method(1, 60, 40, [u16(0), shortstr(""), shortstr(queue), Buffer.from([0])]),
    frame(2, 1, Buffer.concat([u16(60), u16(0), u64(body.length), u16(0)])),
    frame(3, 1, body),
  ]);
  const burst = Buffer.concat(Array(256).fill(one));
  const pump = () => {
    while (running) {
      published += 256;
      if (!sock.write(burst)) { sock.once("drain", pump); return; }
    }
  };
  setTimeout(() => {
    running = false;
    process.stdout.write(`${JSON.stringify({ published, consumed })}\n`);
    sock.destroy();
    process.exit(0);
  }, seconds * 1000);
  pump();
}
