import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReleaseInput } from '../../src/core/registry.js';
import { LeaseBook } from '../../src/service/leases.js';

const guard = (guardId: string): ReleaseInput => ({ roomId: 'R', participantId: 'P', guardId });

describe('LeaseBook', () => {
  let expired: [string, string[]][];
  let book: LeaseBook;
  beforeEach(() => {
    vi.useFakeTimers();
    expired = [];
    book = new LeaseBook(1000, (client, guards) => expired.push([client, guards.map((g) => g.guardId)]));
  });
  afterEach(() => vi.useRealTimers());

  it('expires the guards of a client whose last stream ended, after the grace', () => {
    book.attach('c');
    book.hold('c', guard('g1'));
    book.hold('c', guard('g2'));
    book.detach('c');
    vi.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([['c', ['g1', 'g2']]]);
  });

  it('keeps guards while another stream of the same client is open', () => {
    book.attach('c');
    book.attach('c');
    book.hold('c', guard('g1'));
    book.detach('c');
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
  });

  it('lets a re-attach within the grace adopt the guards', () => {
    book.attach('c');
    book.hold('c', guard('g1'));
    book.detach('c');
    vi.advanceTimersByTime(500);
    expect(book.attach('c')).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
  });

  it('forgets a guard released elsewhere', () => {
    book.attach('c');
    book.hold('c', guard('g1'));
    book.hold('c', guard('g2'));
    book.forget(guard('g1'));
    book.detach('c');
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual([['c', ['g2']]]);
  });

  it('moves an anonymous stream’s guards to the client id of its Hello', () => {
    book.attach('anon');
    book.hold('anon', guard('g1'));
    expect(book.rename('anon', 'named')).toBe(0);
    expect(book.guardsOf('named')).toBe(1);
    expect(book.guardsOf('anon')).toBe(0);
    book.detach('named');
    vi.advanceTimersByTime(1000);
    expect(expired).toEqual([['named', ['g1']]]);
  });

  it('cancels pending expiries on stop', () => {
    book.attach('c');
    book.hold('c', guard('g1'));
    book.detach('c');
    book.stop();
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
  });
});
