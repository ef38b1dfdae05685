/**
 * Batch buffers (slabs) used again. The queue encodes stats straight into a
 * slab and cuts batches out of it as views. A new slab is fresh memory: the
 * kernel faults each of its pages in on the first write, and a flush of
 * 100,000 stats to the NDJSON file wrote ~60 MB of them (bench/README.md,
 * "slabs used again"). A slab is used again only once nothing can read it:
 * a newer slab replaced it and every batch cut from it was acknowledged on
 * its first send. A batch that failed, was dropped or is still queued keeps
 * its slab out of reuse for good: a sink may still hold a view from a failed
 * send (the NATS client keeps what it could not send for its reconnect), and
 * a dropped batch may still be in a spool write. Such a slab is left to the
 * garbage collector.
 */

/** A batch buffer and what became of the batches cut from it. */
export class Slab {
  /** Batches cut from it. */
  batches = 0;
  /** Of those, acknowledged on their first send. */
  acked = 0;
  /** Replaced by a newer slab: no batch will be cut from it any more. */
  retired = false;

  constructor(readonly buffer: Buffer) {}
}

export class SlabPool {
  private readonly free: Buffer[] = [];

  /** `keep`: free slabs held at most; more are left to the garbage collector. */
  constructor(private readonly keep: number) {}

  /**
   * A slab of at least `size` bytes: a free one when there is one, else new
   * memory. A free slab too small is let go: the sizes asked for only grow
   * (they follow the largest batch seen).
   */
  take(size: number): Slab {
    for (let buffer = this.free.pop(); buffer; buffer = this.free.pop()) {
      if (buffer.length >= size) return new Slab(buffer);
    }
    // never a slice of Node's shared pool (Node 24 pools up to 32 KiB): a slab owns its memory
    return new Slab(Buffer.allocUnsafeSlow(size));
  }

  /** No batch will be cut from `slab` any more. */
  retire(slab: Slab): void {
    slab.retired = true;
    this.release(slab);
  }

  /** A batch cut from `slab` was acknowledged on its first send. */
  acked(slab: Slab): void {
    slab.acked++;
    this.release(slab);
  }

  /** Lets go of the free slabs (memory pressure); returns their bytes. */
  drop(): number {
    let bytes = 0;
    for (const buffer of this.free.splice(0)) bytes += buffer.length;
    return bytes;
  }

  /** Bytes held in free slabs. */
  get freeBytes(): number {
    let bytes = 0;
    for (const buffer of this.free) bytes += buffer.length;
    return bytes;
  }

  // Frees a slab once: after retirement no batch is cut, so `acked` reaches `batches` at one call only.
  // The latest are kept: they have the size asked for now, older ones may be too small.
  private release(slab: Slab): void {
    if (!slab.retired || slab.acked !== slab.batches) return;
    this.free.push(slab.buffer);
    if (this.free.length > this.keep) this.free.shift();
  }
}
