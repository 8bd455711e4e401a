// Wire constants of AMQP 0-9-1 as RabbitMQ 3.x uses them.

/** Frame type octets. */
export const FrameType = { method: 1, header: 2, body: 3, heartbeat: 8 } as const;

/** The octet that must close every frame. */
export const FRAME_END = 0xce;

/** Bytes a frame adds around its payload: type(1) + channel(2) + size(4) + frame-end(1). */
export const FRAME_OVERHEAD_BYTES = 8;

/** Bytes of the frame header before the payload. */
export const FRAME_HEADER_BYTES = 7;

/** The smallest frame-max a peer may negotiate (spec 4.2.3). */
export const FRAME_MIN_SIZE = 4096;

/** "AMQP" 0 0 9 1: the 8 octets a 0-9-1 client opens with, and the reply to a bad one. */
export const PROTOCOL_HEADER: Uint8Array = new Uint8Array([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** Class ids of the 0-9-1 classes RabbitMQ implements. */
export const ClassId = {
  connection: 10,
  channel: 20,
  access: 30,
  exchange: 40,
  queue: 50,
  basic: 60,
  confirm: 85,
  tx: 90,
} as const;

/** Largest shortstr, in bytes (its length is one octet). */
export const SHORTSTR_MAX_BYTES = 255;
