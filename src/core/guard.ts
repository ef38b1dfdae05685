/**
 * The reference's ReferenceGuard/ReferenceCount, with guard state kept per
 * worker by guard id: a guard counts once however often it is activated, and
 * releases once however often it is released (retried RPCs are harmless).
 *
 * Released guard ids are remembered (so a retried Activate stays a no-op) only
 * while a retry can plausibly arrive; the rule is in docs/exactness.md (guards).
 */
export class GuardSet {
  private readonly held = new Set<string>();
  /** Released guard id → release time in milliseconds, in release order. */
  private readonly released = new Map<string, number>();

  get refCount(): number {
    return this.held.size;
  }

  /** Guard ids held or remembered as released: what the per-worker guard limit bounds. */
  get size(): number {
    return this.held.size + this.released.size;
  }

  /** Whether activating this id would take a new reference. */
  isNew(guardId: string): boolean {
    return guardId !== '' && !this.held.has(guardId) && !this.released.has(guardId);
  }

  /** Counts the guard unless it is held or remembered as released; the empty id is the reference's nil guard. */
  activate(guardId: string): boolean {
    if (!this.isNew(guardId)) return false;
    this.held.add(guardId);
    return true;
  }

  /** Drops the guard's reference; false for an unknown or already released guard. */
  release(guardId: string, now: number): boolean {
    if (!this.held.delete(guardId)) return false;
    this.released.set(guardId, now);
    return true;
  }

  /** Whether the guard holds a reference right now. */
  holds(guardId: string): boolean {
    return this.held.has(guardId);
  }

  /**
   * Forgets guards released more than `retainMs` before `now`. Release times
   * are in insertion order, so the scan stops at the first one still retained
   * (a clock step back only delays forgetting).
   */
  forgetReleased(now: number, retainMs: number): void {
    for (const [guardId, releasedAt] of this.released) {
      if (now - releasedAt <= retainMs) return;
      this.released.delete(guardId);
    }
  }

  /** Forgets every released guard: on a closed worker nothing can be activated again. */
  forgetAllReleased(): void {
    this.released.clear();
  }
}
