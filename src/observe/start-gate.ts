/**
 * The start gate of an injected sidecar (docs/kubernetes.md "Startup"). A native
 * sidecar holds the SFU's containers until its startupProbe passes, and the
 * kubelet restarts a sidecar that exits or fails that probe, holding them again.
 * So the sidecar opens the gate itself, by writing a file the probe checks, at
 * the first of: serving, giving up after a startup failure, or START_DEADLINE_MS.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Longest the SFU waits for a sidecar that neither serves nor fails, in
 * milliseconds: with the probe's 1 s period the SFU starts within ~21 s.
 */
export const START_DEADLINE_MS = 20_000;

export type GateReason = 'serving' | 'start_failed' | 'deadline';

export class StartGate {
  private opened: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** `file` undefined: no gate (not injected), every call is a no-op. */
  constructor(private readonly file: string | undefined) {}

  /** Removes a file left by an earlier run of the container (the emptyDir outlives restarts). */
  async reset(): Promise<void> {
    if (this.file !== undefined) await rm(this.file, { force: true });
  }

  /** Opens the gate after `ms` unless it was opened before; `onDeadline` runs when that happens. */
  armDeadline(ms: number, onDeadline: () => void): void {
    if (this.file === undefined) return;
    this.timer = setTimeout(() => {
      if (this.opened) return;
      onDeadline();
      void this.open('deadline').catch(() => undefined);
    }, ms);
  }

  /** Writes the file (its content says why, for `kubectl exec cat`); idempotent. */
  open(reason: GateReason): Promise<void> {
    clearTimeout(this.timer);
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    this.opened ??= (async () => {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, `${reason}\n`);
    })();
    return this.opened;
  }
}
