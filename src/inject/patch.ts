/**
 * The RFC 6902 JSONPatch that adds the sidecar to one Pod. Only `add`
 * operations, each creating its parent list or map when the Pod has none,
 * because the API server applies the patch to exactly the object we saw.
 */
import { INJECTED_LABEL } from './annotations.js';
import type { PodView } from './pod.js';
import type { SidecarSettings } from './settings.js';
import { diskBudgetProblem } from './disk-budget.js';
import { renderSidecarContainer, renderSidecarVolumes } from './sidecar-container.js';

export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** The pod cannot take the sidecar as configured; it is admitted unchanged. */
export class PatchConflict extends Error {
  constructor(
    readonly reason: 'port_conflict' | 'volume_conflict' | 'disk_budget',
    message: string,
  ) {
    super(message);
    this.name = 'PatchConflict';
  }
}

/** RFC 6901: `~` and `/` in a key are escaped. */
function pointerKey(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function appendTo(path: string, exists: boolean, values: readonly unknown[]): JsonPatchOp[] {
  return exists
    ? values.map((value) => ({ op: 'add', path: `${path}/-`, value }))
    : [{ op: 'add', path, value: values }];
}

/**
 * Containers of a pod share one network namespace (and with hostNetwork, the
 * node's), so a TCP port the SFU already declares would keep the sidecar from
 * binding. Our two ports are TCP; a UDP port of the same number (LiveKit's
 * 7882/UDP) does not clash.
 */
function checkConflicts(pod: PodView, s: SidecarSettings, volumeNames: readonly string[]): void {
  for (const p of pod.ports) {
    if (p.protocol === 'TCP' && (p.port === s.httpPort || p.port === s.grpcPort)) {
      throw new PatchConflict(
        'port_conflict',
        `container ${p.container} already uses port ${p.port}; choose another with telemetry-sidecar/http-port or telemetry-sidecar/grpc-port`,
      );
    }
    if (p.name === s.portName) {
      throw new PatchConflict('port_conflict', `container ${p.container} already has a port named ${p.name}`);
    }
  }
  for (const name of volumeNames) {
    if (pod.volumeNames.includes(name)) {
      throw new PatchConflict('volume_conflict', `the pod already has a volume named ${name}`);
    }
  }
  const disk = diskBudgetProblem(s);
  if (disk !== undefined) throw new PatchConflict('disk_budget', disk);
}

/** Throws `PatchConflict` when the sidecar would clash with the pod. */
export function buildPodPatch(pod: PodView, s: SidecarSettings): JsonPatchOp[] {
  const volumes = renderSidecarVolumes(s);
  checkConflicts(
    pod,
    s,
    volumes.map((v) => v.name),
  );
  const container = renderSidecarContainer(s);
  const ops: JsonPatchOp[] =
    s.mode === 'native'
      ? // Appended, so the pod's own init containers (config rendering etc.) still run first.
        appendTo('/spec/initContainers', pod.hasInitContainers, [container])
      : appendTo('/spec/containers', true, [container]);
  ops.push(...appendTo('/spec/volumes', pod.hasVolumes, volumes));
  ops.push(
    pod.hasLabels
      ? { op: 'add', path: `/metadata/labels/${pointerKey(INJECTED_LABEL)}`, value: 'true' }
      : { op: 'add', path: '/metadata/labels', value: { [INJECTED_LABEL]: 'true' } },
  );
  return ops;
}
