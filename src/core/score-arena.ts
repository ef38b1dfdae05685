/**
 * Where pending aggregates keep their counted scores for the median until
 * their flush (docs/memory.md): chains of fixed blocks of float32 values in
 * typed-array chunks shared by every aggregate, with a free list.
 *
 * Why not a number[] per aggregate: the array is reallocated as it grows,
 * and each new backing store is young while the aggregate holding it is old,
 * so every minor collection copies it and then promotes it. Those copies were
 * the long scavenges behind the Session's ack latency tail (bench/README.md,
 * "scores without the scavenges"). A chunk's bytes live outside the V8 heap
 * and are never copied; a block is reused as soon as its aggregate is flushed.
 */

/** Scores per block: a power of two, so a score's place in its block is a mask. */
export const BLOCK_SCORES = 8;
const BLOCK_MASK = BLOCK_SCORES - 1;
/** Blocks per chunk (a power of two): 128 KiB of scores and 16 KiB of links. */
const CHUNK_SHIFT = 12;
const CHUNK_BLOCKS = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_BLOCKS - 1;
/** The end of a chain, and of the free list. */
export const NO_BLOCK = -1;

export class ScoreArena {
  private values: Float32Array[] = [];
  /** Per block: the next block of its chain, or of the free list. */
  private links: Int32Array[] = [];
  private freeHead = NO_BLOCK;
  /** Blocks from here to the end of the last chunk were never handed out. */
  private unused = 0;
  private inUse = 0;
  /** The median's working copy, grown to the longest chain seen. */
  private scratch = new Float32Array(BLOCK_SCORES * 4);

  /** Blocks held by chains now. */
  get blocksInUse(): number {
    return this.inUse;
  }

  /** Bytes of the chunks (what the arena costs, whether in use or free). */
  get bytes(): number {
    return this.values.length * CHUNK_BLOCKS * (BLOCK_SCORES + 1) * 4;
  }

  /**
   * Appends a score to the chain ending at `tail` that holds `count` scores
   * (a new chain: NO_BLOCK and 0); returns the chain's tail afterwards.
   */
  push(tail: number, count: number, score: number): number {
    const at = count & BLOCK_MASK;
    if (at === 0) {
      const block = this.allocate();
      if (tail !== NO_BLOCK) this.links[tail >> CHUNK_SHIFT]![tail & CHUNK_MASK] = block;
      tail = block;
    }
    this.values[tail >> CHUNK_SHIFT]![(tail & CHUNK_MASK) * BLOCK_SCORES + at] = score;
    return tail;
  }

  /**
   * The `count` scores of the chain starting at `head`, sorted ascending in
   * a working copy that is valid until the next call; the chain is returned
   * to the free list.
   */
  takeSorted(head: number, count: number): Float32Array {
    if (this.scratch.length < count) {
      this.scratch = new Float32Array(Math.max(count, 2 * this.scratch.length));
    }
    const out = this.scratch;
    let block = head;
    let last = head;
    let blocks = 0;
    for (let copied = 0; copied < count; copied += BLOCK_SCORES) {
      const chunk = this.values[block >> CHUNK_SHIFT]!;
      const from = (block & CHUNK_MASK) * BLOCK_SCORES;
      const n = Math.min(BLOCK_SCORES, count - copied);
      for (let i = 0; i < n; i++) out[copied + i] = chunk[from + i]!;
      last = block;
      blocks++;
      block = this.links[block >> CHUNK_SHIFT]![block & CHUNK_MASK]!;
    }
    this.links[last >> CHUNK_SHIFT]![last & CHUNK_MASK] = this.freeHead;
    this.freeHead = head;
    this.inUse -= blocks;
    sortAscending(out, count);
    if (this.inUse === 0) this.shrink();
    return out;
  }

  private allocate(): number {
    this.inUse++;
    const free = this.freeHead;
    if (free !== NO_BLOCK) {
      this.freeHead = this.links[free >> CHUNK_SHIFT]![free & CHUNK_MASK]!;
      return free;
    }
    if (this.unused === this.values.length * CHUNK_BLOCKS) {
      this.values.push(new Float32Array(CHUNK_BLOCKS * BLOCK_SCORES));
      this.links.push(new Int32Array(CHUNK_BLOCKS));
    }
    return this.unused++;
  }

  /** With no chain left, keeps one chunk: a burst of scores does not hold its memory forever. */
  private shrink(): void {
    if (this.values.length <= 1) return;
    this.values.length = 1;
    this.links.length = 1;
    this.freeHead = NO_BLOCK;
    this.unused = 0;
  }
}

/** Up to this many scores sort by insertion; more go to the typed array's own numeric sort. */
const INSERTION_SORT_MAX = 32;

/**
 * Sorts the first n values in place, ascending. A track has a few scores per
 * interval: insertion sort beats a subarray view plus the builtin sort there
 * (the median showed in flush profiles, see bench/README.md). Scores are
 * positive, never NaN.
 */
function sortAscending(values: Float32Array, n: number): void {
  if (n > INSERTION_SORT_MAX) {
    values.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! > v) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = v;
  }
}
