// A growable ring-buffer deque: O(1) push/shift/unshift, used for a queue's ready messages.
// Grows by doubling; never shrinks below its initial capacity (a drained queue keeps a small array).

export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(initial_capacity = 16) {
    this.items = new Array<T | undefined>(initial_capacity);
  }

  get length(): number {
    return this.count;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  at(i: number): T {
    if (i < 0 || i >= this.count) throw new RangeError(`deque index ${i} out of ${this.count}`);
    return this.items[(this.head + i) & (this.items.length - 1)]!;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count++;
  }

  unshift(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = item;
    this.count++;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  /** Inserts before the first item for which `before(existing)` is true (or at the end). */
  insertBefore(item: T, before: (existing: T) => boolean): void {
    let i = 0;
    while (i < this.count && !before(this.at(i))) i++;
    if (i === 0) return this.unshift(item);
    if (i === this.count) return this.push(item);
    this.push(this.at(this.count - 1));
    const mask = this.items.length - 1;
    for (let j = this.count - 2; j > i; j--) this.items[(this.head + j) & mask] = this.items[(this.head + j - 1) & mask];
    this.items[(this.head + i) & mask] = item;
  }

  clear(): T[] {
    const all: T[] = [];
    while (this.count > 0) all.push(this.shift()!);
    return all;
  }

  private grow(): void {
    const old = this.items;
    const size = old.length * 2;
    const next = new Array<T | undefined>(size);
    for (let i = 0; i < this.count; i++) next[i] = old[(this.head + i) & (old.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
