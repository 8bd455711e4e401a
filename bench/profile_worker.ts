// Entry of a profiled shard worker (see profile.ts): runs Warren's real worker module under
// JavaScriptCore's sampling profiler until the acceptor posts { profileStop: true }, then writes
// the samples. Messages that arrive before the real module has set its onmessage are replayed.
import { profile } from "bun:jsc";
import { writeProfile } from "./profile.ts";

declare const self: Worker;

const target = process.env["WARREN_PROFILE_TARGET"];
const out = process.env["WARREN_PROFILE_OUT"];
if (target === undefined || out === undefined) throw new Error("profile_worker.ts needs WARREN_PROFILE_TARGET and WARREN_PROFILE_OUT");

let loaded = false;
const early: MessageEvent[] = [];
let stop: () => void = () => {};
const stopped = new Promise<void>((resolve) => (stop = resolve));

self.addEventListener("message", (event: MessageEvent) => {
  const data = event.data as { profileStop?: boolean } | null;
  if (data !== null && typeof data === "object" && data.profileStop === true) stop();
  else if (!loaded) early.push(event);
});

const samples = await profile(async () => {
  await import(target);
  loaded = true;
  const handler = self.onmessage as ((event: MessageEvent) => void) | null;
  for (const event of early.splice(0)) handler?.(event);
  await stopped;
}, Number(process.env["WARREN_PROFILE_INTERVAL_US"] ?? 1000));
writeProfile(out, samples);
