// channel (class 20): opening, flow control and closing of channels.
// One specialised decoder and encoder per method, generated once from the spec's argument
// lists (/work/shared/spec/amqp-rabbitmq-0.9.1.json) and kept as plain source. Reserved
// fields (ticket, reserved-N) are left out of the types, skipped when read and written as
// 0 / "". Consecutive bits share an octet, first bit in the lowest position.

import type { Reader } from "../reader.ts";
import type { ByteWriter } from "../byte_writer.ts";

export interface ChannelOpen {
  name: "channel.open";
}

export interface ChannelOpenOk {
  name: "channel.open-ok";
}

export interface ChannelFlow {
  name: "channel.flow";
  active: boolean;
}

export interface ChannelFlowOk {
  name: "channel.flow-ok";
  active: boolean;
}

export interface ChannelClose {
  name: "channel.close";
  replyCode: number;
  replyText: string;
  classId: number;
  methodId: number;
}

export interface ChannelCloseOk {
  name: "channel.close-ok";
}

export type ChannelMethod =
  | ChannelOpen
  | ChannelOpenOk
  | ChannelFlow
  | ChannelFlowOk
  | ChannelClose
  | ChannelCloseOk;

/** Decodes the arguments of method `methodId` of class channel; undefined when the id is unknown. */
export function decodeChannel(r: Reader, methodId: number): ChannelMethod | undefined {
  switch (methodId) {
    case 10: {
      r.what = "channel.open";
      r.skip(r.u8(), "out-of-band");
      r.done();
      return { name: "channel.open" };
    }
    case 11: {
      r.what = "channel.open-ok";
      r.skip(r.u32(), "channel-id");
      r.done();
      return { name: "channel.open-ok" };
    }
    case 20: {
      r.what = "channel.flow";
      const bits = r.u8();
      r.done();
      return { name: "channel.flow", active: (bits & 1) !== 0 };
    }
    case 21: {
      r.what = "channel.flow-ok";
      const bits = r.u8();
      r.done();
      return { name: "channel.flow-ok", active: (bits & 1) !== 0 };
    }
    case 40: {
      r.what = "channel.close";
      const replyCode = r.u16();
      const replyText = r.shortStr();
      const classId = r.u16();
      const methodId = r.u16();
      r.done();
      return { name: "channel.close", replyCode, replyText, classId, methodId };
    }
    case 41: {
      r.what = "channel.close-ok";
      r.done();
      return { name: "channel.close-ok" };
    }
    default:
      return undefined;
  }
}

/** Writes the arguments of m; methods without arguments write nothing. */
export function encodeChannel(w: ByteWriter, m: ChannelMethod): void {
  switch (m.name) {
    case "channel.open":
      w.writeU8(0);
      return;
    case "channel.open-ok":
      w.writeU32(0);
      return;
    case "channel.flow":
      w.writeU8((m.active ? 1 : 0));
      return;
    case "channel.flow-ok":
      w.writeU8((m.active ? 1 : 0));
      return;
    case "channel.close":
      w.writeU16(m.replyCode);
      w.writeShortStr(m.replyText);
      w.writeU16(m.classId);
      w.writeU16(m.methodId);
      return;
    case "channel.close-ok":
      return;
  }
}
