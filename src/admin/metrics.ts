// GET /metrics and /metrics/per-object: Prometheus text exposition, named after RabbitMQ's
// rabbitmq_prometheus metrics so existing dashboards find them. /metrics has the totals and
// per-queue ready / unacked / consumers; /metrics/per-object adds rabbitmq_queue_messages and
// rabbitmq_queue_messages_published_total per queue (labels vhost, queue). One stats round trip per shard, then one pass over the queues: cheap
// with tens of thousands of queues. Unauthenticated, like RabbitMQ's :15692.
import type { AdminContext } from "./admin_context.ts";
import { alarmFields } from "./api_alarms.ts";

/** Prometheus label values escape backslash, double quote and newline. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const PATHS: Record<string, boolean> = { "/metrics": false, "/metrics/per-object": true };

/** The response for a GET of a metrics path, or null when the path is not one. */
export async function metricsResponse(ctx: AdminContext, pathname: string): Promise<Response | null> {
  const perObject = PATHS[pathname];
  if (perObject === undefined) return null;
  return new Response(await metricsText(ctx, perObject), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
}

async function metricsText(ctx: AdminContext, perObject: boolean): Promise<string> {
  const { broker, server } = ctx;
  const stats = await broker.queueStats();
  let connections = 0;
  let channels = 0;
  for (const c of server.connections) {
    if (!c.isOpen) continue;
    connections++;
    channels += c.channelCount;
  }
  const ready: string[] = [];
  const unacked: string[] = [];
  const consumers: string[] = [];
  const messages: string[] = [];
  const published: string[] = [];
  let queues = 0;
  let consumerTotal = 0;
  for (const vhost of broker.vhosts.values()) {
    const v = label(vhost.name);
    for (const q of vhost.queues.values()) {
      const labels = `{vhost="${v}",queue="${label(q.name)}"}`;
      const s = stats.get(q.id);
      queues++;
      consumerTotal += q.consumers.size;
      ready.push(`rabbitmq_queue_messages_ready${labels} ${s?.ready ?? 0}`);
      unacked.push(`rabbitmq_queue_messages_unacked${labels} ${s?.unacked ?? 0}`);
      consumers.push(`rabbitmq_queue_consumers${labels} ${q.consumers.size}`);
      if (!perObject) continue;
      messages.push(`rabbitmq_queue_messages${labels} ${(s?.ready ?? 0) + (s?.unacked ?? 0)}`);
      published.push(`rabbitmq_queue_messages_published_total${labels} ${q.counts.publish}`);
    }
  }
  const c = broker.counters;
  const alarm = alarmFields(ctx);
  const gauge = (name: string, help: string, value: unknown) => metric(name, "gauge", help, [`${name} ${Number(value ?? 0)}`]);
  const lines = [
    ...metric("rabbitmq_connections", "gauge", "Open AMQP connections", [`rabbitmq_connections ${connections}`]),
    ...metric("rabbitmq_channels", "gauge", "Open channels", [`rabbitmq_channels ${channels}`]),
    ...metric("rabbitmq_queues", "gauge", "Queues", [`rabbitmq_queues ${queues}`]),
    ...metric("rabbitmq_consumers", "gauge", "Consumers", [`rabbitmq_consumers ${consumerTotal}`]),
    ...metric("rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered, per queue", ready),
    ...metric("rabbitmq_queue_messages_unacked", "gauge", "Messages delivered and not yet acknowledged, per queue", unacked),
    ...metric("rabbitmq_queue_consumers", "gauge", "Consumers, per queue", consumers),
    ...(perObject ? [
      ...metric("rabbitmq_queue_messages", "gauge", "Sum of ready and unacknowledged messages - total queue depth", messages),
      ...metric("rabbitmq_queue_messages_published_total", "counter", "Total number of messages published to queues", published),
    ] : []),
    ...counter("rabbitmq_global_messages_received_total", "Messages published by clients", c.published),
    ...counter("rabbitmq_global_messages_delivered_total", "Messages delivered to consumers and basic.get", c.delivered),
    ...counter("rabbitmq_global_messages_acknowledged_total", "Messages acknowledged by consumers", c.acked),
    ...counter("rabbitmq_global_messages_confirmed_total", "Messages confirmed to publishers", c.confirmed),
    ...counter("rabbitmq_global_messages_unroutable_returned_total", "Mandatory messages returned as unroutable", c.returned),
    ...gauge("rabbitmq_process_resident_memory_bytes", "Resident memory of the broker process", alarm["mem_used"]),
    ...gauge("rabbitmq_resident_memory_limit_bytes", "Memory high watermark in bytes", alarm["mem_limit"]),
    ...gauge("rabbitmq_disk_space_available_bytes", "Free disk space of the data dir's file system", alarm["disk_free"]),
    ...gauge("rabbitmq_disk_space_available_limit_bytes", "Free disk space low watermark in bytes", alarm["disk_free_limit"]),
    ...gauge("rabbitmq_alarms_memory_used_watermark", "1 while the memory alarm is in effect", alarm["mem_alarm"] === true ? 1 : 0),
    ...gauge("rabbitmq_alarms_free_disk_space_watermark", "1 while the free disk space alarm is in effect", alarm["disk_free_alarm"] === true ? 1 : 0),
  ];
  return `${lines.join("\n")}\n`;
}

function metric(name: string, type: "gauge" | "counter", help: string, samples: string[]): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples];
}

function counter(name: string, help: string, value: number): string[] {
  return metric(name, "counter", help, [`${name} ${value}`]);
}
