/**
 * The reference's ReferenceGuard/ReferenceCount, with guard state kept per
 * worker by guard id: a guard counts once however often it is activated, and
 * releases once however often it is released (retried RPCs are harmless).
 */
export class GuardSet {
  /** false: activated, true: released. */
  private readonly released = new Map<string, boolean>();
  private count = 0;

  get refCount(): number {
    return this.count;
  }

  /** Counts the guard unless it was activated before; the empty id is the reference's nil guard. */
  activate(guardId: string): boolean {
    if (guardId === '' || this.released.has(guardId)) return false;
    this.released.set(guardId, false);
    this.count++;
    return true;
  }

  /** Drops the guard's reference; false for an unknown or already released guard. */
  release(guardId: string): boolean {
    if (this.released.get(guardId) !== false) return false;
    this.released.set(guardId, true);
    this.count--;
    return true;
  }

  /** Whether the guard holds a reference right now. */
  holds(guardId: string): boolean {
    return this.released.get(guardId) === false;
  }
}
