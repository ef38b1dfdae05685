import { describe, expect, it } from 'vitest';
import { SidecarError } from '../../src/core/errors.js';

describe('SidecarError', () => {
  it('carries its gRPC code, message and counted reason, and names itself in logs', () => {
    const err = new SidecarError('RESOURCE_EXHAUSTED', 'guard limit reached', 'guard_limit');
    expect(err).toBeInstanceOf(Error);
    expect([err.name, err.code, err.message, err.reason]).toEqual([
      'SidecarError',
      'RESOURCE_EXHAUSTED',
      'guard limit reached',
      'guard_limit',
    ]);
    expect(String(err)).toBe('SidecarError: guard limit reached');
  });
});
