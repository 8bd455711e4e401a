/** Public entry point of the SharedArrayBuffer SPSC byte rings. */
export { RING_HEADER_BYTES, createRing } from "./ring_layout.ts";
export { RingWriter } from "./ring_writer.ts";
export { RingReader } from "./ring_reader.ts";
