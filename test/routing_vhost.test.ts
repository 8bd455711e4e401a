import { describe, expect, test } from "bun:test";
import type { FieldTable } from "../src/protocol/table.ts";
import type { BindingDef } from "../src/routing/binding.ts";
import type { ExchangeDef, ExchangeType } from "../src/routing/exchange.ts";
import { VhostRoutes } from "../src/routing/vhost_routes.ts";

function exchange(name: string, type: ExchangeType, extra: Partial<ExchangeDef> = {}): ExchangeDef {
  return { name, type, durable: false, autoDelete: false, internal: false, arguments: {}, ...extra };
}

function toQueue(source: string, queue: string, routingKey = "", args: FieldTable = {}): BindingDef {
  return { source, destination: queue, destinationKind: "queue", routingKey, arguments: args };
}

function toExchange(source: string, destination: string, routingKey = ""): BindingDef {
  return { source, destination, destinationKind: "exchange", routingKey, arguments: {} };
}

function routeOf(routes: VhostRoutes, x: string, key: string): string[] {
  const out: string[] = [];
  const n = routes.route(x, key, () => undefined, out);
  expect(n).toBe(out.length);
  return out.sort();
}

describe("exchange-to-exchange routing", () => {
  test("follows a chain of exchanges, each applying its own type's rule", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("t", "topic"));
    routes.declareExchange(exchange("d", "direct"));
    routes.bind(toExchange("t", "d", "logs.#"));
    routes.bind(toQueue("d", "errors", "logs.error"));
    routes.bind(toQueue("d", "infos", "logs.info"));
    routes.bind(toQueue("t", "everything", "#"));
    expect(routeOf(routes, "t", "logs.error")).toEqual(["errors", "everything"]);
    expect(routeOf(routes, "t", "logs.debug")).toEqual(["everything"]);
  });

  test("a cycle terminates and a queue reached by several paths appears once", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("a", "fanout"));
    routes.declareExchange(exchange("b", "fanout"));
    routes.declareExchange(exchange("c", "fanout"));
    routes.bind(toExchange("a", "b"));
    routes.bind(toExchange("b", "a"));
    routes.bind(toExchange("a", "c"));
    routes.bind(toExchange("b", "c"));
    routes.bind(toQueue("a", "q"));
    routes.bind(toQueue("b", "q"));
    routes.bind(toQueue("c", "q"));
    routes.bind(toQueue("c", "r"));
    expect(routeOf(routes, "a", "")).toEqual(["q", "r"]);
    expect(routeOf(routes, "b", "")).toEqual(["q", "r"]);
  });

  test("an exchange bound to itself routes once", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("self", "fanout"));
    routes.bind(toExchange("self", "self"));
    routes.bind(toQueue("self", "q"));
    expect(routeOf(routes, "self", "")).toEqual(["q"]);
  });
});

describe("alternate exchange", () => {
  function withAlternate(): VhostRoutes {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("ae", "fanout"));
    routes.declareExchange(exchange("x", "direct", { arguments: { "alternate-exchange": "ae" } }));
    routes.bind(toQueue("x", "q", "k"));
    routes.bind(toQueue("ae", "unrouted"));
    return routes;
  }

  test("is used only when the exchange matched no binding", () => {
    const routes = withAlternate();
    expect(routeOf(routes, "x", "k")).toEqual(["q"]);
    expect(routeOf(routes, "x", "other")).toEqual(["unrouted"]);
  });

  test("is not used when the exchange matched only an exchange that routed nowhere", () => {
    const routes = withAlternate();
    routes.declareExchange(exchange("empty", "fanout"));
    routes.bind(toExchange("x", "empty", "to-empty"));
    expect(routeOf(routes, "x", "to-empty")).toEqual([]);
  });

  test("of a downstream exchange applies to that exchange", () => {
    const routes = withAlternate();
    routes.declareExchange(exchange("front", "fanout"));
    routes.bind(toExchange("front", "x"));
    expect(routeOf(routes, "front", "k")).toEqual(["q"]);
    expect(routeOf(routes, "front", "nope")).toEqual(["unrouted"]);
  });

  test("that does not exist yet routes nothing, and works once declared", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("x", "direct", { arguments: { "alternate-exchange": "later" } }));
    expect(routeOf(routes, "x", "k")).toEqual([]);
    routes.declareExchange(exchange("later", "fanout"));
    routes.bind(toQueue("later", "q"));
    expect(routeOf(routes, "x", "k")).toEqual(["q"]);
    routes.deleteExchange("later");
    expect(routeOf(routes, "x", "k")).toEqual([]);
  });

  test("pointing back into a cycle terminates", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("a", "direct", { arguments: { "alternate-exchange": "b" } }));
    routes.declareExchange(exchange("b", "direct", { arguments: { "alternate-exchange": "a" } }));
    expect(routeOf(routes, "a", "k")).toEqual([]);
  });
});

describe("route cache", () => {
  test("sees a binding added or removed after a route", () => {
    const routes = new VhostRoutes("/");
    routes.bind(toQueue("amq.topic", "q1", "a.*"));
    expect(routeOf(routes, "amq.topic", "a.b")).toEqual(["q1"]);
    routes.bind(toQueue("amq.topic", "q2", "#"));
    expect(routeOf(routes, "amq.topic", "a.b")).toEqual(["q1", "q2"]);
    routes.unbind(toQueue("amq.topic", "q1", "a.*"));
    expect(routeOf(routes, "amq.topic", "a.b")).toEqual(["q2"]);
    routes.removeQueue("q2");
    expect(routeOf(routes, "amq.topic", "a.b")).toEqual([]);
  });

  test("sees a change to an exchange further down the chain", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("d", "direct"));
    routes.bind(toExchange("amq.fanout", "d"));
    expect(routeOf(routes, "amq.fanout", "k")).toEqual([]);
    routes.bind(toQueue("d", "q", "k"));
    expect(routeOf(routes, "amq.fanout", "k")).toEqual(["q"]);
  });

  test("keeps results per routing key when any exchange reached reads the key", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("d", "direct"));
    routes.bind(toExchange("amq.fanout", "d"));
    routes.bind(toQueue("amq.fanout", "all"));
    routes.bind(toQueue("d", "q1", "k1"));
    routes.bind(toQueue("d", "q2", "k2"));
    expect(routeOf(routes, "amq.fanout", "k1")).toEqual(["all", "q1"]);
    expect(routeOf(routes, "amq.fanout", "k2")).toEqual(["all", "q2"]);
    expect(routeOf(routes, "amq.fanout", "k1")).toEqual(["all", "q1"]);
  });

  test("hands out copies: changing a returned array does not change later routes", () => {
    const routes = new VhostRoutes("/");
    routes.bind(toQueue("amq.direct", "q", "k"));
    const out: string[] = [];
    routes.route("amq.direct", "k", () => undefined, out);
    out[0] = "mutated";
    expect(routeOf(routes, "amq.direct", "k")).toEqual(["q"]);
  });

  test("stays correct past its size bound", () => {
    const routes = new VhostRoutes("/");
    routes.bind(toQueue("amq.topic", "q", "k.*"));
    for (let i = 0; i < 10_000; i++) expect(routeOf(routes, "amq.topic", `k.${i}`)).toEqual(["q"]);
    expect(routeOf(routes, "amq.topic", "k.1")).toEqual(["q"]);
  });
});

describe("bindings", () => {
  test("binding the same thing twice is reported; argument order does not make a new binding", () => {
    const routes = new VhostRoutes("/");
    expect(routes.bind(toQueue("amq.direct", "q", "k", { a: 1, b: 2 }))).toBe(true);
    expect(routes.bind(toQueue("amq.direct", "q", "k", { b: 2, a: 1 }))).toBe(false);
    expect(routes.bind(toQueue("amq.direct", "q", "k", { a: 1 }))).toBe(true);
    expect(routes.bind(toQueue("amq.direct", "q", "k2"))).toBe(true);
    expect([...routes.bindings()].length).toBe(3);
  });

  test("lists a queue's bindings and drops them all when the queue goes", () => {
    const routes = new VhostRoutes("/");
    routes.bind(toQueue("amq.direct", "q", "k"));
    routes.bind(toQueue("amq.topic", "q", "a.#"));
    routes.bind(toQueue("amq.direct", "other", "k"));
    expect(routes.bindingsOfQueue("q").map((b) => b.source).sort()).toEqual(["amq.direct", "amq.topic"]);
    expect(routes.removeQueue("q")).toEqual([]);
    expect(routes.bindingsOfQueue("q")).toEqual([]);
    expect([...routes.bindings()].map((b) => b.destination)).toEqual(["other"]);
    expect(routeOf(routes, "amq.direct", "k")).toEqual(["other"]);
  });

  test("unbinding what is not bound reports nothing removed", () => {
    const routes = new VhostRoutes("/");
    expect(routes.unbind(toQueue("amq.direct", "q", "k"))).toEqual({ removed: false, autoDeleted: [] });
  });

  test("refuses the default exchange and missing exchanges with RabbitMQ's errors", () => {
    const routes = new VhostRoutes("vh");
    expect(() => routes.bind(toQueue("", "q", "q"))).toThrow("ACCESS_REFUSED - operation not permitted on the default exchange");
    expect(() => routes.bind(toExchange("amq.direct", ""))).toThrow("ACCESS_REFUSED");
    expect(() => routes.bind(toQueue("nope", "q"))).toThrow("NOT_FOUND - no exchange 'nope' in vhost 'vh'");
    expect(() => routes.bind(toExchange("amq.direct", "nope"))).toThrow("NOT_FOUND - no exchange 'nope' in vhost 'vh'");
  });

  test("hasBindings tells source and destination use apart", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("src", "fanout"));
    routes.declareExchange(exchange("dst", "fanout"));
    routes.bind(toExchange("src", "dst"));
    expect(routes.hasBindings("src")).toEqual({ asSource: true, asDestination: false });
    expect(routes.hasBindings("dst")).toEqual({ asSource: false, asDestination: true });
    expect(routes.hasBindings("missing")).toEqual({ asSource: false, asDestination: false });
  });

  test("route refuses the default exchange and output that is not empty", () => {
    const routes = new VhostRoutes("/");
    expect(() => routes.route("", "q", () => undefined, [])).toThrow("INTERNAL_ERROR");
    expect(() => routes.route("amq.direct", "q", () => undefined, ["x"])).toThrow("INTERNAL_ERROR");
    expect(routes.route("missing", "q", () => undefined, [])).toBe(0);
  });
});

describe("exchange lifecycle", () => {
  test("an auto-delete exchange goes when its last binding is removed, not before", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("ad", "direct", { autoDelete: true }));
    routes.bind(toQueue("ad", "q1", "k"));
    routes.bind(toQueue("ad", "q2", "k"));
    expect(routes.unbind(toQueue("ad", "q1", "k"))).toEqual({ removed: true, autoDeleted: [] });
    expect(routes.exchange("ad")).toBeDefined();
    expect(routes.unbind(toQueue("ad", "q2", "k"))).toEqual({ removed: true, autoDeleted: ["ad"] });
    expect(routes.exchange("ad")).toBeUndefined();
  });

  test("an auto-delete exchange is not deleted when it only loses a binding as destination", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("ad", "fanout", { autoDelete: true }));
    routes.bind(toExchange("amq.fanout", "ad"));
    expect(routes.unbind(toExchange("amq.fanout", "ad")).autoDeleted).toEqual([]);
    expect(routes.exchange("ad")).toBeDefined();
  });

  test("deleting a queue auto-deletes the exchanges it was the last binding of", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("ad1", "fanout", { autoDelete: true }));
    routes.declareExchange(exchange("ad2", "fanout", { autoDelete: true }));
    routes.declareExchange(exchange("keep", "fanout"));
    routes.bind(toQueue("ad1", "q"));
    routes.bind(toQueue("ad2", "q"));
    routes.bind(toQueue("ad2", "other"));
    routes.bind(toQueue("keep", "q"));
    expect(routes.removeQueue("q")).toEqual(["ad1"]);
    expect(routes.exchange("ad1")).toBeUndefined();
    expect(routes.exchange("ad2")).toBeDefined();
    expect(routes.exchange("keep")).toBeDefined();
  });

  test("deleting an exchange removes its bindings both ways and cascades auto-deletes of sources", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("top", "fanout", { autoDelete: true }));
    routes.declareExchange(exchange("mid", "fanout", { autoDelete: true }));
    routes.declareExchange(exchange("x", "fanout"));
    routes.declareExchange(exchange("downstream", "fanout", { autoDelete: true }));
    routes.bind(toExchange("top", "mid"));
    routes.bind(toExchange("mid", "x"));
    routes.bind(toExchange("x", "downstream"));
    routes.bind(toQueue("x", "q"));
    routes.bind(toQueue("downstream", "q"));
    expect(routes.deleteExchange("x")).toEqual(["x", "mid", "top"]);
    // downstream lost a binding as destination only: it stays, with its own bindings.
    expect(routes.exchange("downstream")).toBeDefined();
    expect([...routes.bindings()]).toEqual([toQueue("downstream", "q")]);
    expect(routes.hasBindings("downstream")).toEqual({ asSource: true, asDestination: false });
    expect(routes.deleteExchange("x")).toEqual([]);
  });

  test("a redeclaration keeps bindings and picks up a new alternate exchange", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("x", "direct"));
    routes.declareExchange(exchange("ae", "fanout"));
    routes.bind(toQueue("x", "q", "k"));
    routes.bind(toQueue("ae", "unrouted"));
    routes.declareExchange(exchange("x", "direct", { arguments: { "alternate-exchange": "ae" } }));
    expect(routeOf(routes, "x", "k")).toEqual(["q"]);
    expect(routeOf(routes, "x", "z")).toEqual(["unrouted"]);
    expect(() => routes.declareExchange(exchange("x", "topic"))).toThrow("INTERNAL_ERROR");
  });

  test("a deleted and redeclared exchange starts without bindings", () => {
    const routes = new VhostRoutes("/");
    routes.declareExchange(exchange("x", "direct"));
    routes.bind(toQueue("x", "q", "k"));
    routes.deleteExchange("x");
    routes.declareExchange(exchange("x", "direct"));
    expect(routeOf(routes, "x", "k")).toEqual([]);
    expect(routes.bindingsOfQueue("q")).toEqual([]);
  });
});
