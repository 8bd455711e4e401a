import { invariant } from "../invariant.ts";
import type { BindingRecord } from "./binding.ts";
import type { RouteSink, Router } from "./router.ts";

/** Fanout exchange: every binding matches, whatever the routing key (rabbit_exchange_type_fanout). */
export class FanoutRouter implements Router {
  readonly #bindings: BindingRecord[] = [];

  add(binding: BindingRecord): void {
    this.#bindings.push(binding);
  }

  remove(binding: BindingRecord): void {
    const at = this.#bindings.indexOf(binding);
    invariant(at >= 0, "routing", "fanout binding not present");
    this.#bindings.splice(at, 1);
  }

  route(_routingKey: string, sink: RouteSink): void {
    const list = this.#bindings;
    for (let i = 0; i < list.length; i++) sink.deliver(list[i]!);
  }
}
