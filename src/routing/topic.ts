import { invariant } from "../invariant.ts";
import type { BindingRecord } from "./binding.ts";
import type { RouteSink, Router } from "./router.ts";

/** Binding and routing keys are shortstr on the wire. */
export const MAX_TOPIC_KEY_BYTES = 255;

class TopicNode {
  /** Literal-word edges; created on first use since most nodes have at most one kind of edge. */
  children: Map<string, TopicNode> | undefined = undefined;
  star: TopicNode | undefined = undefined;
  hash: TopicNode | undefined = undefined;
  readonly bindings: BindingRecord[] = [];
  /** The route call that last expanded this '#' node, and the lowest word index it started from. */
  memoEpoch = 0;
  memoFrom = 0;

  constructor(
    readonly parent: TopicNode | undefined,
    readonly word: string,
  ) {}

  isEmpty(): boolean {
    return this.bindings.length === 0 && this.children === undefined && this.star === undefined && this.hash === undefined;
  }

  child(word: string): TopicNode | undefined {
    if (word === "*") return this.star;
    if (word === "#") return this.hash;
    return this.children?.get(word);
  }

  childOrCreate(word: string): TopicNode {
    const existing = this.child(word);
    if (existing !== undefined) return existing;
    const node = new TopicNode(this, word);
    if (word === "*") this.star = node;
    else if (word === "#") this.hash = node;
    else (this.children ??= new Map()).set(word, node);
    return node;
  }

  detach(child: TopicNode): void {
    if (child === this.star) this.star = undefined;
    else if (child === this.hash) this.hash = undefined;
    else {
      const children = this.children;
      invariant(children !== undefined && children.get(child.word) === child, "routing", "topic trie edge not present");
      children.delete(child.word);
      if (children.size === 0) this.children = undefined;
    }
  }
}

/**
 * Topic exchange: a trie over the dot-separated words of the binding keys, with '*' (exactly one word)
 * and '#' (zero or more words) edges, matched by backtracking as rabbit_db_topic_exchange does.
 * Words are split exactly as RabbitMQ splits them: "" has no words, and every '.' separates two words,
 * so "a..b" has three and "a." has two (the last empty).
 */
export class TopicRouter implements Router {
  readonly #root = new TopicNode(undefined, "");
  /** Reused by every route call: the words of the routing key being matched. */
  readonly #words: string[] = [];
  #wordCount = 0;
  #epoch = 0;
  #sink: RouteSink | undefined = undefined;

  add(binding: BindingRecord): void {
    const key = binding.def.routingKey;
    invariant(utf8ByteLength(key) <= MAX_TOPIC_KEY_BYTES, "routing", `topic binding key longer than ${MAX_TOPIC_KEY_BYTES} bytes`);
    let node = this.#root;
    const count = splitWords(key, this.#words);
    for (let i = 0; i < count; i++) node = node.childOrCreate(this.#words[i]!);
    node.bindings.push(binding);
  }

  remove(binding: BindingRecord): void {
    const key = binding.def.routingKey;
    let node: TopicNode | undefined = this.#root;
    const count = splitWords(key, this.#words);
    for (let i = 0; i < count && node !== undefined; i++) node = node.child(this.#words[i]!);
    const at = node === undefined ? -1 : node.bindings.indexOf(binding);
    invariant(node !== undefined && at >= 0, "routing", `topic binding '${key}' not present`);
    node.bindings.splice(at, 1);
    // Prune the now-unused tail of the path so the trie only ever holds live patterns.
    while (node.parent !== undefined && node.isEmpty()) {
      node.parent.detach(node);
      node = node.parent;
    }
  }

  route(routingKey: string, sink: RouteSink): void {
    this.#wordCount = splitWords(routingKey, this.#words);
    this.#epoch++;
    this.#sink = sink;
    this.#visit(this.#root, 0);
    this.#sink = undefined;
  }

  /** Matches the words from index `at` on against the patterns below `node`. */
  #visit(node: TopicNode, at: number): void {
    const n = this.#wordCount;
    const hash = node.hash;
    if (hash !== undefined) {
      // '#' consumes words at..n-1, any number of them. Each (# node, word index) state is expanded at
      // most once per call: with several '#' in a pattern the same state is otherwise reached along
      // combinatorially many paths. Extra visits could only repeat matches, so skipping them is exact.
      const expanded = hash.memoEpoch === this.#epoch;
      const last = expanded ? hash.memoFrom - 1 : n;
      if (last >= at) {
        hash.memoEpoch = this.#epoch;
        hash.memoFrom = at;
        for (let i = at; i <= last; i++) this.#visit(hash, i);
      }
    }
    if (at === n) {
      const sink = this.#sink!;
      const bindings = node.bindings;
      for (let i = 0; i < bindings.length; i++) sink.deliver(bindings[i]!);
      return;
    }
    const word = this.#words[at]!;
    const literal = node.children?.get(word);
    if (literal !== undefined) this.#visit(literal, at + 1);
    if (node.star !== undefined) this.#visit(node.star, at + 1);
  }
}

/** Splits `key` into `into` (reused, never shrunk) and returns the word count. */
function splitWords(key: string, into: string[]): number {
  if (key.length === 0) return 0;
  let count = 0;
  let start = 0;
  for (;;) {
    const dot = key.indexOf(".", start);
    const end = dot < 0 ? key.length : dot;
    into[count++] = key.substring(start, end);
    if (dot < 0) return count;
    start = dot + 1;
  }
}

function utf8ByteLength(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}
