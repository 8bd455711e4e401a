import { describe, expect, test } from "bun:test";
import { bindingRecord, type BindingRecord } from "../src/routing/binding.ts";
import type { RouteSink } from "../src/routing/router.ts";
import { TopicRouter } from "../src/routing/topic.ts";
import { VhostRoutes } from "../src/routing/vhost_routes.ts";
import { mulberry32 } from "./support/seeded_random.ts";

/** Words as RabbitMQ splits a topic key: "" has none, every '.' separates two. */
function words(key: string): string[] {
  return key === "" ? [] : key.split(".");
}

/** The obvious recursive matcher, the reference the trie is checked against. */
function referenceMatch(pattern: string[], key: string[]): boolean {
  if (pattern.length === 0) return key.length === 0;
  const [head, ...rest] = pattern;
  if (head === "#") return referenceMatch(rest, key) || (key.length > 0 && referenceMatch(pattern, key.slice(1)));
  if (key.length === 0) return false;
  return (head === "*" || head === key[0]) && referenceMatch(rest, key.slice(1));
}

function randomKey(next: () => number, alphabet: readonly string[]): string {
  const count = Math.floor(next() * 7); // 0..6 words
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(alphabet[Math.floor(next() * alphabet.length)]!);
  return parts.join(".");
}

class CollectingSink implements RouteSink {
  readonly matched = new Set<string>();
  deliver(binding: BindingRecord): void {
    this.matched.add(binding.def.destination);
  }
  headers(): undefined {
    return undefined;
  }
}

function topicBinding(pattern: string, queue: string): BindingRecord {
  return bindingRecord({ source: "t", destination: queue, destinationKind: "queue", routingKey: pattern, arguments: {} });
}

const KEY_WORDS = ["a", "b", "c", ""] as const;
const PATTERN_WORDS = ["a", "b", "c", "", "*", "#"] as const;

describe("topic trie", () => {
  test("agrees with the reference matcher on random patterns and keys, before and after removals", () => {
    const seed = 0x5eed_2024;
    const next = mulberry32(seed);
    let checks = 0;
    for (let round = 0; round < 40; round++) {
      const router = new TopicRouter();
      const live = new Map<string, { pattern: string; record: BindingRecord }>();
      for (let i = 0; i < 60; i++) {
        const pattern = randomKey(next, PATTERN_WORDS);
        const queue = `q${i}`;
        const record = topicBinding(pattern, queue);
        router.add(record);
        live.set(queue, { pattern, record });
      }
      for (let phase = 0; phase < 2; phase++) {
        for (let k = 0; k < 150; k++) {
          const key = randomKey(next, KEY_WORDS);
          const sink = new CollectingSink();
          router.route(key, sink);
          const expected = [...live].filter(([, b]) => referenceMatch(words(b.pattern), words(key))).map(([q]) => q);
          const got = [...sink.matched];
          if (got.sort().join() !== expected.sort().join()) {
            const wrong = [...live].filter(([q]) => sink.matched.has(q) !== expected.includes(q));
            throw new Error(
              `seed=${seed} round=${round} phase=${phase} key=${JSON.stringify(key)}: ` +
                `mismatched patterns ${JSON.stringify(wrong.map(([, b]) => b.pattern))}`,
            );
          }
          checks++;
        }
        // Remove about half the bindings: the pruned trie must still agree.
        for (const [queue, b] of [...live]) {
          if (next() < 0.5) {
            router.remove(b.record);
            live.delete(queue);
          }
        }
      }
    }
    expect(checks).toBe(40 * 2 * 150);
  });

  test("splits words as RabbitMQ: empty key has no words, empty words count", () => {
    const cases: [pattern: string, key: string, match: boolean][] = [
      ["", "", true],
      ["", "a", false],
      ["#", "", true],
      ["*", "", false],
      ["*", ".", false],
      ["*.*", ".", true],
      ["a.*", "a.", true],
      ["a.#", "a", true],
      ["a..b", "a..b", true],
      ["a.*.b", "a..b", true],
      ["a.b", "a..b", false],
      ["#.#", "a.b.c", true],
      ["#.a.#.b.#", "x.a.y.z.b", true],
      ["#.a.#.b.#", "x.b.y.a", false],
      ["*.#.*", "a", false],
      ["*.#.*", "a.b", true],
    ];
    for (const [pattern, key, match] of cases) {
      const router = new TopicRouter();
      router.add(topicBinding(pattern, "q"));
      const sink = new CollectingSink();
      router.route(key, sink);
      expect({ pattern, key, match: sink.matched.has("q") }).toEqual({ pattern, key, match });
    }
  });

  test("many '#' in a pattern against a long key finishes quickly and matches", () => {
    const router = new TopicRouter();
    router.add(topicBinding("#.#.#.#.#.#.#.#.#.#.z", "q"));
    router.add(topicBinding("#.#.#.#.#.#.#.#.#.#.y", "r"));
    const key = `${"a.".repeat(126)}z`; // 127 words, 253 bytes
    const sink = new CollectingSink();
    const started = performance.now();
    router.route(key, sink);
    expect(performance.now() - started).toBeLessThan(100);
    expect([...sink.matched]).toEqual(["q"]);
  });

  test("rejects a binding key longer than a shortstr", () => {
    const router = new TopicRouter();
    expect(() => router.add(topicBinding("a".repeat(256), "q"))).toThrow("255");
    router.add(topicBinding("é".repeat(127), "q")); // 254 bytes
    expect(() => router.add(topicBinding("é".repeat(128), "q"))).toThrow("255");
  });

  test("routes with 10,000 bindings in microseconds, cached and uncached", () => {
    const routes = new VhostRoutes("/");
    for (let i = 0; i < 10_000; i++) {
      const pattern = i % 3 === 0 ? `stock.${i}.#` : i % 3 === 1 ? `*.${i}.nyse` : `stock.${i}.nyse`;
      routes.bind({ source: "amq.topic", destination: `q${i}`, destinationKind: "queue", routingKey: pattern, arguments: {} });
    }
    routes.bind({ source: "amq.topic", destination: "all", destinationKind: "queue", routingKey: "#", arguments: {} });
    const out: string[] = [];
    const noHeaders = () => undefined;
    const keys = Array.from({ length: 1000 }, (_, i) => `stock.${i * 7}.nyse`);

    let started = performance.now();
    for (const key of keys) {
      out.length = 0;
      routes.route("amq.topic", key, noHeaders, out);
    }
    const uncachedMicros = ((performance.now() - started) * 1000) / keys.length;

    const rounds = 20;
    started = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const key of keys) {
        out.length = 0;
        routes.route("amq.topic", key, noHeaders, out);
      }
    }
    const cachedMicros = ((performance.now() - started) * 1000) / (keys.length * rounds);

    out.length = 0;
    routes.route("amq.topic", "stock.7.nyse", noHeaders, out);
    expect(out.sort()).toEqual(["all", "q7"]);
    out.length = 0;
    routes.route("amq.topic", "stock.6.nyse", noHeaders, out);
    expect(out.sort()).toEqual(["all", "q6"]);
    console.log(`topic 10k bindings: uncached ${uncachedMicros.toFixed(2)} µs, cached ${cachedMicros.toFixed(2)} µs per route`);
    expect(uncachedMicros).toBeLessThan(200);
    expect(cachedMicros).toBeLessThan(20);
  });
});
