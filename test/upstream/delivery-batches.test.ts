/**
 * Batches built by encoding each stat straight into the delivery queue's
 * batch buffer are the batches the previous path built (each stat encoded
 * on its own, then copied into its batch): the same bytes, the same cuts,
 * the same stats dropped as unencodable, across batch-boundary sizes,
 * stats larger than the room left in the buffer and stats larger than a
 * whole batch (which, as before, are sent alone, for the sink to refuse).
 */
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AnalyticsStat } from '../../src/core/analytics.js';
import { TrackAggregate } from '../../src/core/coalesce.js';
import { Delivery } from '../../src/upstream/delivery.js';
import { Backoff } from '../../src/upstream/backoff.js';
import { NO_ROOM, SinkError, type Batch, type Sink } from '../../src/upstream/sink.js';
import { encodeAnalyticsStatsEntryInto } from '../../src/wire/analytics-encoder.js';
import { encodeNdjsonLineInto } from '../../src/wire/ndjson-encoder.js';
import { recordingDeliveryMetrics } from '../helpers/delivery-metrics.js';
import { encodeWith } from '../helpers/encode.js';

const silent = pino({ level: 'silent' });

type EncodeInto = Sink['encodeInto'];

/** A sink over a real encoder that accepts every batch and keeps it. */
class KeepingSink implements Sink {
  readonly description = 'keeping';
  readonly format = 'test';
  readonly sent: Batch[] = [];
  /** Copies taken when each batch was sent: the queue must not write over a batch it has cut. */
  readonly bytesAtSend: Buffer[] = [];

  constructor(
    readonly encodeInto: EncodeInto,
    readonly maxBatchBytes: number,
  ) {}

  async send(batch: Batch): Promise<void> {
    this.sent.push(batch);
    this.bytesAtSend.push(Buffer.concat(batch.payloads));
  }

  async close(): Promise<void> {}
}

/** An NDJSON sink whose sends are `send`. */
function ndjsonSink(description: string, send: Sink['send']): Sink {
  return {
    description,
    format: 'test',
    maxBatchBytes: 1e6,
    encodeInto: encodeNdjsonLineInto,
    send,
    close: async () => undefined,
  };
}

interface Expected {
  bytes: Buffer;
  count: number;
}

/** The previous path: each stat encoded alone, cut before a stat that would pass batch_max_stats or maxBatchBytes. */
function previousBatches(
  encodeInto: EncodeInto,
  flushes: AnalyticsStat[][],
  batchMaxStats: number,
  maxBatchBytes: number,
): { batches: Expected[]; unencodable: number } {
  const batches: Expected[] = [];
  let unencodable = 0;
  for (const flush of flushes) {
    let open: { parts: Buffer[]; bytes: number } | undefined;
    const cut = () => {
      if (open) batches.push({ bytes: Buffer.concat(open.parts), count: open.parts.length });
      open = undefined;
    };
    for (const stat of flush) {
      let payload: Buffer;
      try {
        payload = encodeWith(encodeInto, stat);
      } catch {
        unencodable++;
        continue;
      }
      if (!open || open.parts.length >= batchMaxStats || open.bytes + payload.length > maxBatchBytes) {
        cut();
        open = { parts: [], bytes: 0 };
      }
      open.parts.push(payload);
      open.bytes += payload.length;
    }
    cut();
  }
  return { batches, unencodable };
}

const base = new TrackAggregate().result();
const stat: fc.Arbitrary<AnalyticsStat> = fc
  .record({
    trackId: fc.string({ maxLength: 12 }),
    // mostly small, some larger than a small batch, a few multi-byte
    mime: fc.oneof(
      { weight: 6, arbitrary: fc.string({ maxLength: 40 }) },
      { weight: 2, arbitrary: fc.nat({ max: 1500 }).map((n) => 'm'.repeat(n)) },
      { weight: 1, arbitrary: fc.nat({ max: 300 }).map((n) => 'é€'.repeat(n)) },
    ),
    score: fc.constantFrom(0, 1.5, 4.199999809265137),
    // a time with no JSON form: unencodable on the NDJSON sink (the binary one writes it)
    badTime: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  })
  .map(({ trackId, mime, score, badTime }) => ({
    ...base,
    streams: base.streams.map((s) => ({ ...s })),
    trackId,
    mime,
    score,
    timeStamp: badTime ? { seconds: 10 ** 15, nanos: 0 } : { seconds: 1_700_000_000, nanos: 5 },
  }));

const encoders: [string, EncodeInto][] = [
  ['NDJSON', encodeNdjsonLineInto],
  ['IngestStats', encodeAnalyticsStatsEntryInto],
];

describe('Delivery batches, encoded in place', () => {
  for (const [name, encodeInto] of encoders) {
    it(`${name}: the same batches as encoding each stat alone and copying it in, with batch buffers used again`, async () => {
      let reused = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              stats: fc.array(stat, { maxLength: 40 }),
              delivered: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
            }),
            {
              minLength: 1,
              maxLength: 12,
            },
          ),
          fc.integer({ min: 1, max: 8 }),
          fc.oneof(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 400, max: 5000 })),
          fc.constantFrom(1, 16, 200, 1024, 4096),
          async (flushes, batchMaxStats, maxBatchBytes, slabBytes) => {
            const sink = new KeepingSink(encodeInto, maxBatchBytes);
            const { metrics, counts } = recordingDeliveryMetrics();
            const d = new Delivery(sink, { batchMaxStats, queueMaxBytes: 1e9, slabBytes }, metrics, silent);
            const sealed: Promise<boolean>[] = [];
            for (const flush of flushes) {
              // a flush enqueues in chunks, as the scheduler does
              for (let i = 0; i < flush.stats.length; i += 3) d.enqueue(flush.stats.slice(i, i + 3));
              sealed.push(d.seal().delivered);
              // delivered before the next flush: its batch buffers are free to be used again
              if (flush.delivered) await sealed.at(-1);
            }
            await Promise.all(sealed);
            const expected = previousBatches(
              encodeInto,
              flushes.map((f) => f.stats),
              batchMaxStats,
              maxBatchBytes,
            );
            // what each batch held when it was sent (its buffer may have been written again since)
            expect(sink.bytesAtSend).toEqual(expected.batches.map((b) => b.bytes));
            expect(sink.sent.map((b) => [b.count, b.bytes])).toEqual(
              expected.batches.map((b) => [b.count, b.bytes.length]),
            );
            expect(counts['dropped:unencodable'] ?? 0).toBe(expected.unencodable);
            // sent in the order cut, so a slab's batches come one after another: a buffer seen again after another is reuse
            const buffers = new Set<ArrayBufferLike>();
            let last: ArrayBufferLike | undefined;
            for (const b of sink.sent) {
              const buffer = b.payloads[0]!.buffer;
              if (buffer !== last && buffers.has(buffer)) reused++;
              buffers.add(buffer);
              last = buffer;
            }
          },
        ),
        { numRuns: 150 },
      );
      // the generator reaches reuse (11-24 times in 150 runs when this was written)
      expect(reused).toBeGreaterThan(2);
    });
  }

  it('a stat larger than a whole batch is sent alone, after the batch before it, as before', async () => {
    const small = { ...base, trackId: 'a' };
    const huge = { ...base, trackId: 'b', mime: 'x'.repeat(5000) };
    const sink = new KeepingSink(encodeNdjsonLineInto, 1000);
    const d = new Delivery(
      sink,
      { batchMaxStats: 10, queueMaxBytes: 1e9, slabBytes: 1024 },
      recordingDeliveryMetrics().metrics,
      silent,
    );
    d.enqueue([small, small, huge, small]);
    expect(await d.seal().delivered).toBe(true);
    expect(sink.sent.map((b) => b.count)).toEqual([2, 1, 1]);
    expect(sink.sent[1]!.bytes).toBeGreaterThan(5000);
    expect(Buffer.concat(sink.sent[1]!.payloads)).toEqual(encodeWith(encodeNdjsonLineInto, huge));
  });

  it('a batch that failed holds its own bytes, not the batch buffer it was cut from, and is re-sent unchanged', async () => {
    const stats = Array.from({ length: 6 }, (_, i) => ({ ...base, trackId: `T${i}` }));
    const sends: { id: string; payload: Uint8Array; bytes: Buffer }[] = [];
    let failures = 0;
    const sink = ndjsonSink('failing once', async (batch) => {
      const [payload] = batch.payloads;
      sends.push({ id: batch.id, payload: payload!, bytes: Buffer.from(payload!) });
      // the first batch fails once: it goes behind the second, which is delivered
      if (sends.length === 1 && failures++ === 0) throw SinkError.transient('try again', 'unavailable');
    });
    const d = new Delivery(
      sink,
      { batchMaxStats: 3, queueMaxBytes: 1e9, backoff: new Backoff(1, 1) },
      recordingDeliveryMetrics().metrics,
      silent,
    );
    d.enqueue(stats);
    expect(await d.seal().delivered).toBe(true);
    const [first, second, retry] = sends;
    expect([first!.id, second!.id, retry!.id]).toEqual([first!.id, second!.id, first!.id]);
    // cut from one batch buffer: views of it
    expect(first!.payload.buffer).toBe(second!.payload.buffer);
    expect(first!.payload.buffer.byteLength).toBeGreaterThan(first!.payload.byteLength);
    // the retry: its own buffer, exactly its size, the same bytes
    expect(retry!.payload.buffer).not.toBe(second!.payload.buffer);
    expect(retry!.payload.buffer.byteLength).toBe(retry!.payload.byteLength);
    expect(retry!.bytes).toEqual(first!.bytes);
  });

  it('a batch buffer is used again only when no send can still read it: the views a failed send kept stay as they were', async () => {
    // a sink that keeps what it could not send, as the NATS client keeps a publish for its reconnect
    const kept: { view: Uint8Array; bytes: Buffer }[] = [];
    const slabsSent = new Set<ArrayBufferLike>();
    let bytesSent = 0;
    let sends = 0;
    const sink = ndjsonSink('failing every 25th send', async (batch) => {
      const [view] = batch.payloads;
      sends++;
      // a view of a slab (a failed batch's retry holds its own copy, exactly its size)
      const ofSlab = view!.byteLength < view!.buffer.byteLength;
      if (ofSlab) slabsSent.add(view!.buffer);
      if (sends % 25 === 0 && ofSlab) {
        kept.push({ view: view!, bytes: Buffer.from(view!) });
        throw SinkError.transient('try again', 'unavailable');
      }
      bytesSent += view!.byteLength;
    });
    const d = new Delivery(
      sink,
      { batchMaxStats: 4, queueMaxBytes: 1e9, slabBytes: 4096, backoff: new Backoff(1, 1) },
      recordingDeliveryMetrics().metrics,
      silent,
    );
    for (let flush = 0; flush < 40; flush++) {
      d.enqueue(Array.from({ length: 24 }, (_, i) => ({ ...base, trackId: `T${flush}-${i}` })));
      expect(await d.seal().delivered).toBe(true);
    }
    expect(kept.length).toBeGreaterThan(5);
    for (const { view, bytes } of kept) expect(Buffer.from(view)).toEqual(bytes);
    // and buffers were used again: far fewer of them than the bytes sent would fill
    const slabBytes = [...slabsSent].reduce((n, b) => n + b.byteLength, 0);
    expect(slabBytes).toBeLessThan(bytesSent / 2);
  });

  it('a sink that never finds room for a stat has it dropped as unencodable, with a bounded buffer, and the rest delivered', async () => {
    let offered = 0;
    const sink = new KeepingSink((stat, into, at) => {
      if (stat.trackId === 'never fits') {
        offered = Math.max(offered, into.length - at);
        return NO_ROOM;
      }
      return encodeNdjsonLineInto(stat, into, at);
    }, 1e6);
    const { metrics, counts } = recordingDeliveryMetrics();
    const d = new Delivery(
      sink,
      { batchMaxStats: 10, queueMaxBytes: 1e9, slabBytes: 1024, maxStatBytes: 64 * 1024 },
      metrics,
      silent,
    );
    d.enqueue([
      { ...base, trackId: 'a' },
      { ...base, trackId: 'never fits' },
      { ...base, trackId: 'b' },
    ]);
    expect(await d.seal().delivered).toBe(false);
    expect(counts['dropped:unencodable']).toBe(1);
    expect(offered).toBeGreaterThanOrEqual(64 * 1024);
    expect(offered).toBeLessThan(4 * 64 * 1024);
    expect(Buffer.concat(sink.sent.flatMap((b) => b.payloads))).toEqual(
      Buffer.concat([
        encodeWith(encodeNdjsonLineInto, { ...base, trackId: 'a' }),
        encodeWith(encodeNdjsonLineInto, { ...base, trackId: 'b' }),
      ]),
    );
  });
});
