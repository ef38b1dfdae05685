import { describe, expect, it } from 'vitest';
import { GuardSet } from '../../src/core/guard.js';

describe('GuardSet', () => {
  it('holds a guard from activate to release', () => {
    const g = new GuardSet();
    expect(g.holds('g0')).toBe(false);
    g.activate('g0');
    expect(g.holds('g0')).toBe(true);
    g.release('g0', 10);
    expect(g.holds('g0')).toBe(false);
    expect(g.refCount).toBe(0);
  });

  it('takes no reference for the empty guard id', () => {
    const g = new GuardSet();
    expect(g.isNew('')).toBe(false);
    expect(g.activate('')).toBe(false);
    expect([g.refCount, g.size]).toEqual([0, 0]);
  });

  it('remembers a released guard so its retried activate is a no-op', () => {
    const g = new GuardSet();
    g.activate('g0');
    g.release('g0', 10);
    expect(g.isNew('g0')).toBe(false);
    expect(g.activate('g0')).toBe(false);
    expect(g.release('g0', 11)).toBe(false);
    expect([g.refCount, g.size]).toEqual([0, 1]);
  });

  it('forgets guards released more than the retention ago, oldest first', () => {
    const g = new GuardSet();
    for (const id of ['a', 'b', 'c']) g.activate(id);
    g.release('a', 100);
    g.release('b', 200);
    g.forgetReleased(300, 200);
    expect(g.size).toBe(3);
    g.forgetReleased(301, 200);
    expect([g.isNew('a'), g.isNew('b'), g.size]).toEqual([true, false, 2]);
    g.forgetReleased(1000, 200);
    expect([g.isNew('b'), g.holds('c'), g.size]).toEqual([true, true, 1]);
    expect(g.activate('a')).toBe(true);
    expect(g.refCount).toBe(2);
  });

  it('stops at the first guard still retained, even after a clock step back', () => {
    const g = new GuardSet();
    for (const id of ['a', 'b', 'c']) g.activate(id);
    g.release('a', 500);
    g.release('b', 100);
    g.forgetReleased(400, 100);
    expect(g.size).toBe(3);
    g.forgetReleased(601, 100);
    expect(g.size).toBe(1);
  });

  it('forgets every released guard at once', () => {
    const g = new GuardSet();
    for (const id of ['a', 'b']) g.activate(id);
    g.release('a', 1);
    g.forgetAllReleased();
    expect([g.size, g.refCount, g.holds('b')]).toEqual([1, 1, true]);
  });
});
