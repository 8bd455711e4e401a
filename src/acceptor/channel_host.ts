// What a channel needs from its connection.
import type { Broker } from "../broker/broker.ts";
import type { QueueRecord } from "../broker/queue_record.ts";
import type { Publisher } from "../broker/publish_flow.ts";
import type { Vhost } from "../broker/vhost.ts";
import type { Method } from "../protocol/methods.ts";
import type { FrameWriter } from "../protocol/writer.ts";
import type { Channel } from "./channel.ts";

/** Client capabilities from connection.start-ok that change what the server sends. */
export interface ClientCapabilities {
  consumerCancelNotify: boolean;
  authenticationFailureClose: boolean;
  connectionBlocked: boolean;
}

export interface ChannelHost extends Publisher {
  /** Connection id: the owner of its exclusive queues. */
  readonly id: number;
  readonly broker: Broker;
  readonly vhost: Vhost;
  readonly user: string;
  readonly out: FrameWriter;
  readonly frameMax: number;
  readonly capabilities: ClientCapabilities;
  /** Writes a method frame and schedules the flush. */
  send(channel: number, method: Method): void;
  markDirty(): void;
  /** Runs fn; an AmqpError closes the channel or the connection as its code says. */
  guard(channel: Channel, fn: () => void): void;
  channelClosed(channel: Channel): void;
  ownQueue(queue: QueueRecord): void;
  forgetOwnedQueue(queue: QueueRecord): void;
}
