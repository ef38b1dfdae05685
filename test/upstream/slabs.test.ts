import { describe, expect, it } from 'vitest';
import { SlabPool } from '../../src/upstream/slabs.js';

describe('SlabPool', () => {
  it('hands a slab back only once it is retired and every batch cut from it was acknowledged', () => {
    const pool = new SlabPool(2);
    const slab = pool.take(64);
    slab.batches = 2;
    pool.acked(slab);
    pool.retire(slab);
    expect(pool.freeBytes).toBe(0);
    pool.acked(slab);
    expect(pool.freeBytes).toBe(64);
    expect(pool.take(64).buffer).toBe(slab.buffer);
    expect(pool.freeBytes).toBe(0);
  });

  it('keeps a slab with a batch that never was acknowledged out of reuse', () => {
    const pool = new SlabPool(2);
    const slab = pool.take(64);
    slab.batches = 2;
    pool.acked(slab);
    pool.retire(slab);
    expect(pool.take(64).buffer).not.toBe(slab.buffer);
  });

  it('keeps the latest slabs freed, up to its bound, and lets go of one too small for what is asked', () => {
    const pool = new SlabPool(2);
    const [a, b, c] = [pool.take(32), pool.take(64), pool.take(64)];
    for (const s of [a, b, c]) pool.retire(s);
    // a went first, as the oldest
    expect(pool.freeBytes).toBe(128);
    expect(pool.take(64).buffer).toBe(c.buffer);
    pool.retire(a);
    // a is now the latest, and too small: let go, and b taken
    expect(pool.take(64).buffer).toBe(b.buffer);
    expect(pool.freeBytes).toBe(0);
  });

  it('lets go of every free slab on drop, reporting their bytes', () => {
    const pool = new SlabPool(3);
    const slabs = [pool.take(16), pool.take(32)];
    for (const s of slabs) pool.retire(s);
    expect(pool.drop()).toBe(48);
    expect(pool.freeBytes).toBe(0);
  });
});
