import { invariant } from "../invariant.ts";
import type { BindingRecord } from "./binding.ts";
import type { RouteSink, Router } from "./router.ts";

/** Direct exchange: a binding matches when its key equals the routing key (rabbit_exchange_type_direct). */
export class DirectRouter implements Router {
  readonly #byKey = new Map<string, BindingRecord[]>();

  add(binding: BindingRecord): void {
    const key = binding.def.routingKey;
    const list = this.#byKey.get(key);
    if (list === undefined) this.#byKey.set(key, [binding]);
    else list.push(binding);
  }

  remove(binding: BindingRecord): void {
    const key = binding.def.routingKey;
    const list = this.#byKey.get(key);
    const at = list === undefined ? -1 : list.indexOf(binding);
    invariant(list !== undefined && at >= 0, "routing", `direct binding '${key}' not present`);
    list.splice(at, 1);
    if (list.length === 0) this.#byKey.delete(key);
  }

  route(routingKey: string, sink: RouteSink): void {
    const list = this.#byKey.get(routingKey);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) sink.deliver(list[i]!);
  }
}
