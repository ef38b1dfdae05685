/**
 * The few facts the webhook needs from a Pod, read defensively: the object
 * arrives as untrusted JSON, and a surprise in it must lead to "admit
 * unchanged", never to an exception in the request handler.
 */

export interface PodPort {
  container: string;
  name?: string;
  port: number;
  /** TCP, UDP or SCTP; Kubernetes' default is TCP. */
  protocol: string;
}

export interface PodView {
  /** For logs: name, or generateName + '*' for controller-made pods that have no name yet. */
  displayName: string;
  annotations: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  hasLabels: boolean;
  hostNetwork: boolean;
  containerNames: readonly string[];
  initContainerNames: readonly string[];
  /** False when the pod has no initContainers list (the patch must create it). */
  hasInitContainers: boolean;
  volumeNames: readonly string[];
  hasVolumes: boolean;
  /** Every declared container port, regular and init: they share one network namespace. */
  ports: readonly PodPort[];
}

export class PodShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodShapeError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(v: unknown, where: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) throw new PodShapeError(`${where} is not an object`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw new PodShapeError(`${where}.${k} is not a string`);
    out[k] = val;
  }
  return out;
}

function list(v: unknown, where: string): unknown[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new PodShapeError(`${where} is not a list`);
  return v;
}

function named(items: unknown[] | null, where: string): { name: string; item: Record<string, unknown> }[] {
  return (items ?? []).map((item, i) => {
    if (!isRecord(item) || typeof item.name !== 'string') throw new PodShapeError(`${where}[${i}] has no name`);
    return { name: item.name, item };
  });
}

function portsOf(container: string, raw: unknown, where: string): PodPort[] {
  return (list(raw, where) ?? []).flatMap((p, i) => {
    if (!isRecord(p) || typeof p.containerPort !== 'number') {
      throw new PodShapeError(`${where}[${i}] has no numeric containerPort`);
    }
    const port: PodPort = {
      container,
      port: p.containerPort,
      protocol: typeof p.protocol === 'string' ? p.protocol : 'TCP',
    };
    if (typeof p.name === 'string') port.name = p.name;
    return [port];
  });
}

export interface PodMeta {
  annotations: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
}

/** Enough to decide opt-in; a pod that did not opt in is never inspected further. */
export function readMeta(obj: unknown): PodMeta {
  if (!isRecord(obj)) throw new PodShapeError('request.object is not an object');
  const meta = obj.metadata;
  if (!isRecord(meta)) throw new PodShapeError('metadata is not an object');
  return {
    annotations: stringMap(meta.annotations, 'metadata.annotations'),
    labels: stringMap(meta.labels, 'metadata.labels'),
  };
}

/** Throws `PodShapeError` when the object is not shaped like a Pod. */
export function readPod(obj: unknown): PodView {
  const { annotations, labels } = readMeta(obj);
  const meta = (obj as { metadata: Record<string, unknown> }).metadata;
  const spec = (obj as Record<string, unknown>).spec;
  if (!isRecord(spec)) throw new PodShapeError('spec is missing');
  const containers = named(list(spec.containers, 'spec.containers'), 'spec.containers');
  if (containers.length === 0) throw new PodShapeError('spec.containers is empty');
  const initList = list(spec.initContainers, 'spec.initContainers');
  const inits = named(initList, 'spec.initContainers');
  const volumesList = list(spec.volumes, 'spec.volumes');
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : undefined;
  const generateName = typeof meta.generateName === 'string' ? meta.generateName : '';
  return {
    displayName: name ?? `${generateName}*`,
    annotations,
    labels,
    hasLabels: isRecord(meta.labels),
    hostNetwork: spec.hostNetwork === true,
    containerNames: containers.map((c) => c.name),
    initContainerNames: inits.map((c) => c.name),
    hasInitContainers: initList !== null,
    volumeNames: named(volumesList, 'spec.volumes').map((v) => v.name),
    hasVolumes: volumesList !== null,
    ports: [...containers, ...inits].flatMap((c) => portsOf(c.name, c.item.ports, `container ${c.name} ports`)),
  };
}
