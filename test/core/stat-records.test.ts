import { describe, expect, it } from 'vitest';
import { StatRecords } from '../../src/core/stat-records.js';

describe('StatRecords', () => {
  it('hands out new records until rewound, then the same ones again, making no more than were out at once', () => {
    const records = new StatRecords();
    const first = [records.next(), records.next(), records.next()];
    expect(new Set(first).size).toBe(3);
    records.rewind();
    expect([records.next(), records.next()]).toEqual(first.slice(0, 2));
    expect(records.next()).toBe(first[2]);
    expect(records.size).toBe(3);
    const fourth = records.next();
    expect(first).not.toContain(fourth);
    expect(records.size).toBe(4);
  });

  it("shows each record's own stream and times through its stat", () => {
    const [a, b] = [new StatRecords().next(), new StatRecords().next()];
    expect(a.stat.streams).toEqual([a.stream]);
    expect(a.stream.startTime).toBe(a.startTime);
    expect(a.stream.endTime).toBe(a.endTime);
    expect(a.withTopLayer).toEqual([a.topLayer]);
    expect(a.stream).not.toBe(b.stream);
    expect(a.topLayer).not.toBe(b.topLayer);
  });
});
