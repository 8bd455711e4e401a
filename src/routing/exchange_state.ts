import { invariant } from "../invariant.ts";
import type { BindingRecord } from "./binding.ts";
import { DirectRouter } from "./direct.ts";
import { alternateExchangeOf, type ExchangeDef, type ExchangeType } from "./exchange.ts";
import { FanoutRouter } from "./fanout.ts";
import { HeadersRouter } from "./headers.ts";
import { RouteCache } from "./route_cache.ts";
import type { Router } from "./router.ts";
import { TopicRouter } from "./topic.ts";

/** Messages published to the exchange, and copies it routed to queues (the management API's message_stats). */
export class ExchangeCounts {
  static readonly keys = ["publish_in", "publish_out"] as const;
  publish_in = 0;
  publish_out = 0;

  /** The values in `keys` order. */
  sample(into: Float64Array): void {
    into[0] = this.publish_in;
    into[1] = this.publish_out;
  }
}

/** One declared exchange with everything routing needs from it, compiled. */
export class ExchangeState {
  readonly router: Router;
  /** Where unroutable messages go: the "alternate-exchange" argument, else the policy's. */
  alternate: string | undefined;
  /** The alternate exchange the exchange's policy names (set by VhostRoutes.setPolicyAlternate). */
  private policyAlternate: string | undefined;
  /** Direct and topic exchanges read the routing key; fanout and headers ignore it. */
  readonly readsRoutingKey: boolean;
  /** The bindings with this exchange as source. */
  readonly outgoing = new Set<BindingRecord>();
  readonly cache = new RouteCache();
  readonly counts = new ExchangeCounts();

  constructor(public def: ExchangeDef) {
    this.router = routerFor(def.type);
    this.alternate = alternateExchangeOf(def);
    this.readsRoutingKey = def.type === "direct" || def.type === "topic";
  }

  /** A redeclaration keeps the bindings; only the type is fixed for an exchange's lifetime. */
  redefine(def: ExchangeDef): void {
    invariant(def.name === this.def.name && def.type === this.def.type, "routing", `exchange '${def.name}' redeclared as another type`);
    this.def = def;
    this.alternate = alternateExchangeOf(def) ?? this.policyAlternate;
  }

  /** rabbit_policy:get_arg: the argument wins over the policy. */
  setPolicyAlternate(name: string | undefined): void {
    this.policyAlternate = name;
    this.alternate = alternateExchangeOf(this.def) ?? name;
  }
}

function routerFor(type: ExchangeType): Router {
  switch (type) {
    case "direct":
      return new DirectRouter();
    case "fanout":
      return new FanoutRouter();
    case "topic":
      return new TopicRouter();
    case "headers":
      return new HeadersRouter();
  }
}
