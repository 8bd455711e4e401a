// The resource alarms in the management API: their fields as RabbitMQ's /api/nodes shows them,
// and Warren's run-time settings of the marks (what rabbitmqctl set_vm_memory_high_watermark and
// set_disk_free_limit change; RabbitMQ's API has no path for them, so these are Warren's own).
import { parseSize, parseWatermark, type ResourceAlarms } from "../broker/resource_alarms.ts";
import type { AdminContext } from "./admin_context.ts";
import { ApiError, badRequest } from "./api_errors.ts";
import { noContent, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

/** mem_alarm, disk_free_alarm, mem_used, mem_limit, disk_free, disk_free_limit (RabbitMQ's names). */
export function alarmFields(ctx: AdminContext): Record<string, unknown> {
  const s = ctx.broker.alarms?.status;
  if (s === undefined) return { mem_used: process.memoryUsage.rss(), mem_alarm: false, disk_free_alarm: false };
  return {
    mem_alarm: s.memAlarm,
    disk_free_alarm: s.diskAlarm,
    mem_used: s.memUsed_bytes,
    mem_limit: s.memLimit_bytes,
    disk_free: Number.isFinite(s.diskFree_bytes) ? s.diskFree_bytes : 0,
    disk_free_limit: s.diskFreeLimit_bytes,
  };
}

function alarms(req: ApiRequest): ResourceAlarms {
  const a = req.ctx.broker.alarms;
  if (a === null) throw new ApiError(503, "unavailable", "resource alarms are not running");
  return a;
}

/** {"fraction": 0.4} or {"absolute": "1GiB"} (a number of bytes too). */
async function setWatermark(req: ApiRequest): Promise<ApiResponse> {
  const body = await req.body();
  const value = body["fraction"] ?? body["absolute"];
  if ((typeof value !== "number" && typeof value !== "string") || (body["fraction"] !== undefined) === (body["absolute"] !== undefined)) {
    throw badRequest("expected {\"fraction\": F} or {\"absolute\": SIZE}");
  }
  let watermark;
  try {
    watermark = body["fraction"] !== undefined ? parseWatermark(String(value)) : { absolute_bytes: sizeOf(value) };
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  if (body["fraction"] !== undefined && !("fraction" in watermark)) throw badRequest(`fraction must be in (0, 1], got ${String(value)}`);
  alarms(req).setMemoryWatermark(watermark);
  return noContent;
}

/** {"limit": "50MB"} (a number of bytes too), or {"mem_relative": 1.5}. */
async function setDiskFreeLimit(req: ApiRequest): Promise<ApiResponse> {
  const body = await req.body();
  const a = alarms(req);
  const relative = body["mem_relative"];
  if (relative !== undefined) {
    if (typeof relative !== "number" || !(relative > 0)) throw badRequest("mem_relative must be a positive number");
    a.setDiskFreeLimit(Math.floor(relative * a.status.memLimit_bytes));
    return noContent;
  }
  const limit = body["limit"];
  if (typeof limit !== "number" && typeof limit !== "string") throw badRequest("expected {\"limit\": SIZE} or {\"mem_relative\": F}");
  a.setDiskFreeLimit(sizeOf(limit));
  return noContent;
}

function sizeOf(value: unknown): number {
  const bytes = typeof value === "number" ? value : parseSize(String(value));
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) throw badRequest(`'${String(value)}' is not a size such as 50MB or 1GiB`);
  return Math.floor(bytes);
}

export const alarmRoutes: Route[] = [
  { method: "PUT", path: "/api/vm-memory-high-watermark", access: "administrator", handle: setWatermark },
  { method: "PUT", path: "/api/disk-free-limit", access: "administrator", handle: setDiskFreeLimit },
];
