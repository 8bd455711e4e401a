import { describe, expect, test } from "bun:test";
import { AmqpError } from "../src/protocol/errors.ts";
import type { FieldTable } from "../src/protocol/table.ts";
import { Decimal, Timestamp } from "../src/protocol/table.ts";
import { isExchangeType } from "../src/routing/exchange.ts";
import { VhostRoutes } from "../src/routing/vhost_routes.ts";

function routeOf(routes: VhostRoutes, exchange: string, key: string, headers?: FieldTable): string[] {
  const out: string[] = [];
  routes.route(exchange, key, () => headers, out);
  return out.sort();
}

function bindQueue(routes: VhostRoutes, source: string, queue: string, key = "", args: FieldTable = {}): boolean {
  return routes.bind({ source, destination: queue, destinationKind: "queue", routingKey: key, arguments: args });
}

describe("exchange types", () => {
  test("isExchangeType accepts exactly the four built-in types", () => {
    expect(["direct", "fanout", "topic", "headers"].every(isExchangeType)).toBe(true);
    expect(isExchangeType("x-delayed-message")).toBe(false);
    expect(isExchangeType("Direct")).toBe(false);
  });

  test("a new vhost has the default and amq.* exchanges, all durable", () => {
    const routes = new VhostRoutes("/");
    const all = [...routes.exchanges()].map((x) => [x.name, x.type, x.durable] as const);
    expect(all.sort()).toEqual(
      [
        ["", "direct", true],
        ["amq.direct", "direct", true],
        ["amq.fanout", "fanout", true],
        ["amq.headers", "headers", true],
        ["amq.match", "headers", true],
        ["amq.topic", "topic", true],
      ].sort() as never,
    );
  });
});

describe("direct", () => {
  test("routes only to bindings whose key equals the routing key, each queue once", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.direct", "q1", "k");
    bindQueue(routes, "amq.direct", "q2", "k");
    bindQueue(routes, "amq.direct", "q3", "other");
    // Same queue and key, different arguments: a second binding, still one delivery.
    bindQueue(routes, "amq.direct", "q1", "k", { extra: 1 });
    expect(routeOf(routes, "amq.direct", "k")).toEqual(["q1", "q2"]);
    expect(routeOf(routes, "amq.direct", "K")).toEqual([]);
    expect(routeOf(routes, "amq.direct", "")).toEqual([]);
  });

  test("an empty binding key matches only the empty routing key", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.direct", "q", "");
    expect(routeOf(routes, "amq.direct", "")).toEqual(["q"]);
    expect(routeOf(routes, "amq.direct", "x")).toEqual([]);
  });
});

describe("fanout", () => {
  test("routes to every bound queue whatever the routing key", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.fanout", "q1", "ignored");
    bindQueue(routes, "amq.fanout", "q2");
    expect(routeOf(routes, "amq.fanout", "anything")).toEqual(["q1", "q2"]);
    expect(routeOf(routes, "amq.fanout", "")).toEqual(["q1", "q2"]);
  });
});

describe("headers", () => {
  function headersRoutes(): VhostRoutes {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.headers", "all", "", { "x-match": "all", a: 1, b: "two" });
    bindQueue(routes, "amq.headers", "any", "", { "x-match": "any", a: 1, b: "two" });
    bindQueue(routes, "amq.headers", "default", "", { a: 1, b: "two" });
    return routes;
  }

  test("x-match all needs every key present and equal; absent x-match means all", () => {
    const routes = headersRoutes();
    expect(routeOf(routes, "amq.headers", "", { a: 1, b: "two" })).toEqual(["all", "any", "default"]);
    expect(routeOf(routes, "amq.headers", "", { a: 1, b: "two", c: true })).toEqual(["all", "any", "default"]);
    expect(routeOf(routes, "amq.headers", "", { a: 1 })).toEqual(["any"]);
    expect(routeOf(routes, "amq.headers", "", { a: 2, b: "two" })).toEqual(["any"]);
    expect(routeOf(routes, "amq.headers", "", { a: 2, b: "three" })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "")).toEqual([]);
  });

  test("the routing key plays no part", () => {
    const routes = headersRoutes();
    expect(routeOf(routes, "amq.headers", "whatever", { a: 1, b: "two" })).toEqual(["all", "any", "default"]);
  });

  test("an empty pattern matches every message with all and none with any", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.match", "all", "", { "x-match": "all" });
    bindQueue(routes, "amq.match", "any", "", { "x-match": "any" });
    expect(routeOf(routes, "amq.match", "", {})).toEqual(["all"]);
    expect(routeOf(routes, "amq.match", "")).toEqual(["all"]);
  });

  test("x- keys are ignored by all/any and compared by all-with-x/any-with-x", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.headers", "all", "", { "x-match": "all", "x-k": "v", a: 1 });
    bindQueue(routes, "amq.headers", "any", "", { "x-match": "any", "x-k": "v" });
    bindQueue(routes, "amq.headers", "all-with-x", "", { "x-match": "all-with-x", "x-k": "v", a: 1 });
    bindQueue(routes, "amq.headers", "any-with-x", "", { "x-match": "any-with-x", "x-k": "v", a: 9 });
    expect(routeOf(routes, "amq.headers", "", { a: 1 })).toEqual(["all"]);
    expect(routeOf(routes, "amq.headers", "", { a: 1, "x-k": "v" })).toEqual(["all", "all-with-x", "any-with-x"]);
    expect(routeOf(routes, "amq.headers", "", { a: 1, "x-k": "w" })).toEqual(["all"]);
    // x-match in the message is just another header, never compared with the binding's.
    expect(routeOf(routes, "amq.headers", "", { "x-match": "any", "x-k": "v" })).toEqual(["any-with-x"]);
  });

  test("a void binding value matches presence of the header with any value", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.headers", "all", "", { "x-match": "all", a: null, b: 1 });
    bindQueue(routes, "amq.headers", "any", "", { "x-match": "any", a: null });
    expect(routeOf(routes, "amq.headers", "", { a: "anything", b: 1 })).toEqual(["all", "any"]);
    expect(routeOf(routes, "amq.headers", "", { a: null, b: 1 })).toEqual(["all", "any"]);
    expect(routeOf(routes, "amq.headers", "", { b: 1 })).toEqual([]);
  });

  test("a void header equals only a void binding value", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.headers", "q", "", { a: "" });
    expect(routeOf(routes, "amq.headers", "", { a: null })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "", { a: "" })).toEqual(["q"]);
  });

  test("values compare as Erlang ==: numbers across widths, strings with bytes, not bools with numbers", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.headers", "int", "", { n: 1 });
    bindQueue(routes, "amq.headers", "str", "", { s: "abc" });
    bindQueue(routes, "amq.headers", "bool", "", { b: true });
    bindQueue(routes, "amq.headers", "dec", "", { d: new Decimal(2, 150) });
    bindQueue(routes, "amq.headers", "arr", "", { l: [1, "x"] });
    bindQueue(routes, "amq.headers", "tbl", "", { t: { k: 1 } });
    expect(routeOf(routes, "amq.headers", "", { n: 1n })).toEqual(["int"]);
    expect(routeOf(routes, "amq.headers", "", { n: 1.0 })).toEqual(["int"]);
    expect(routeOf(routes, "amq.headers", "", { n: "1" })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "", { n: true })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "", { s: new TextEncoder().encode("abc") })).toEqual(["str"]);
    expect(routeOf(routes, "amq.headers", "", { s: "abd" })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "", { b: 1 })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "", { b: true })).toEqual(["bool"]);
    expect(routeOf(routes, "amq.headers", "", { d: new Decimal(2, 150) })).toEqual(["dec"]);
    expect(routeOf(routes, "amq.headers", "", { d: new Decimal(1, 15) })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "", { l: [1n, "x"] })).toEqual(["arr"]);
    expect(routeOf(routes, "amq.headers", "", { l: ["x", 1] })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "", { t: { k: 1 } })).toEqual(["tbl"]);
    expect(routeOf(routes, "amq.headers", "", { t: { k: 2 } })).toEqual([]);
  });

  test("timestamps compare with integers in seconds", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.headers", "q", "", { at: 1_700_000_000 });
    expect(routeOf(routes, "amq.headers", "", { at: new Timestamp(1_700_000_000n) })).toEqual(["q"]);
    // Past 2^53 seconds, too: compared exactly, not through a float.
    bindQueue(routes, "amq.headers", "far", "", { at: new Timestamp(2n ** 64n - 1n) });
    expect(routeOf(routes, "amq.headers", "", { at: 2n ** 64n - 1n })).toEqual(["far"]);
    expect(routeOf(routes, "amq.headers", "", { at: new Timestamp(2n ** 64n - 2n) })).toEqual([]);
  });

  test("an invalid x-match is refused with PRECONDITION_FAILED as RabbitMQ words it", () => {
    const routes = new VhostRoutes("/");
    const bad = (args: FieldTable) => () => bindQueue(routes, "amq.headers", "q", "", args);
    expect(bad({ "x-match": "some" })).toThrow(
      'PRECONDITION_FAILED - Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x',
    );
    expect(bad({ "x-match": 1 })).toThrow(AmqpError);
    let code = 0;
    try {
      bad({ "x-match": true })();
    } catch (e) {
      code = (e as AmqpError).code;
    }
    expect(code).toBe(406);
    // The same arguments are fine on a non-headers exchange.
    expect(bindQueue(routes, "amq.direct", "q", "", { "x-match": "some" })).toBe(true);
  });

  test("headers are fetched lazily: never for other types, once per route however many exchanges", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.direct", "q", "k");
    let calls = 0;
    const headers = (): FieldTable => {
      calls++;
      return { a: 1 };
    };
    routes.route("amq.direct", "k", headers, []);
    expect(calls).toBe(0);

    routes.bind({ source: "amq.fanout", destination: "amq.headers", destinationKind: "exchange", routingKey: "", arguments: {} });
    routes.bind({ source: "amq.fanout", destination: "amq.match", destinationKind: "exchange", routingKey: "", arguments: {} });
    bindQueue(routes, "amq.headers", "h1", "", { a: 1 });
    bindQueue(routes, "amq.match", "h2", "", { a: 1 });
    const out: string[] = [];
    routes.route("amq.fanout", "", headers, out);
    expect(out.sort()).toEqual(["h1", "h2"]);
    expect(calls).toBe(1);
  });

  test("results that depended on headers are never cached", () => {
    const routes = new VhostRoutes("/");
    bindQueue(routes, "amq.headers", "q", "", { a: 1 });
    expect(routeOf(routes, "amq.headers", "k", { a: 1 })).toEqual(["q"]);
    expect(routeOf(routes, "amq.headers", "k", { a: 2 })).toEqual([]);
    expect(routeOf(routes, "amq.headers", "k", { a: 1 })).toEqual(["q"]);
  });
});
