/**
 * Guard leases (docs/api.md, Hello and leases): guards activated through a Session stream belong to
 * the stream's client id. When the client's last stream ends, its guards are
 * released after the grace period unless a stream says Hello with the same
 * client id first, which adopts them.
 */
import type { ReleaseInput } from '../core/registry.js';

interface Lease {
  streams: number;
  guards: Map<string, ReleaseInput>;
  timer?: NodeJS.Timeout;
}

const refKey = (g: ReleaseInput) => `${g.roomId}\u0000${g.participantId}\u0000${g.guardId}`;

export class LeaseBook {
  private readonly leases = new Map<string, Lease>();
  /** Guard → client id, so a release from anywhere forgets the guard. */
  private readonly owners = new Map<string, string>();

  constructor(
    private readonly graceMs: number,
    private readonly onExpire: (clientId: string, guards: ReleaseInput[]) => void,
  ) {}

  /** A stream of this client opened (or said Hello); returns the guards it adopts. */
  attach(clientId: string): number {
    const lease = this.lease(clientId);
    lease.streams++;
    clearTimeout(lease.timer);
    delete lease.timer;
    return lease.guards.size;
  }

  /** A stream of this client ended; its guards expire after the grace unless another stream holds them. */
  detach(clientId: string): void {
    const lease = this.leases.get(clientId);
    if (!lease) return;
    lease.streams--;
    if (lease.streams > 0) return;
    if (lease.guards.size === 0) {
      this.leases.delete(clientId);
      return;
    }
    lease.timer = setTimeout(() => this.expire(clientId), this.graceMs);
    lease.timer.unref();
  }

  /** Moves an anonymous stream's guards to the client id its Hello names. */
  rename(fromId: string, toId: string): number {
    const from = this.leases.get(fromId);
    const adopted = this.attach(toId);
    if (!from) return adopted;
    const to = this.lease(toId);
    for (const [key, guard] of from.guards) {
      to.guards.set(key, guard);
      this.owners.set(key, toId);
    }
    this.leases.delete(fromId);
    return adopted;
  }

  hold(clientId: string, guard: ReleaseInput): void {
    const key = refKey(guard);
    const previous = this.owners.get(key);
    if (previous !== undefined && previous !== clientId) this.leases.get(previous)?.guards.delete(key);
    this.lease(clientId).guards.set(key, guard);
    this.owners.set(key, clientId);
  }

  /** The guard was released by its owner or anyone else: it is no longer leased. */
  forget(guard: ReleaseInput): void {
    const key = refKey(guard);
    const owner = this.owners.get(key);
    if (owner === undefined) return;
    this.owners.delete(key);
    const lease = this.leases.get(owner);
    lease?.guards.delete(key);
    if (lease && lease.streams === 0 && lease.guards.size === 0) {
      clearTimeout(lease.timer);
      this.leases.delete(owner);
    }
  }

  /** Guards currently leased (for tests and logs). */
  guardsOf(clientId: string): number {
    return this.leases.get(clientId)?.guards.size ?? 0;
  }

  /** Cancels pending expiries: at shutdown guards are not released, the final flush covers them. */
  stop(): void {
    for (const lease of this.leases.values()) clearTimeout(lease.timer);
  }

  private lease(clientId: string): Lease {
    let lease = this.leases.get(clientId);
    if (!lease) this.leases.set(clientId, (lease = { streams: 0, guards: new Map() }));
    return lease;
  }

  private expire(clientId: string): void {
    const lease = this.leases.get(clientId);
    if (!lease || lease.streams > 0) return;
    this.leases.delete(clientId);
    const guards = [...lease.guards.values()];
    for (const key of lease.guards.keys()) this.owners.delete(key);
    this.onExpire(clientId, guards);
  }
}
