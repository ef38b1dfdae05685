/**
 * Renders the sidecar container and its data volume from resolved settings.
 * The chart's `telemetry-sidecar.container` template renders the same shape
 * for charts that include the sidecar directly; keep the two in step.
 */
import { DATA_MOUNT_PATH } from './settings.js';
import type { EnvVar, SidecarSettings } from './settings.js';

/** The container name is how we recognise an already-injected pod. */
export const SIDECAR_NAME = 'telemetry-sidecar';
export const DATA_VOLUME_NAME = 'telemetry-sidecar-data';
export const TOKEN_VOLUME_NAME = 'telemetry-sidecar-grpc-token';
const TOKEN_DIR = '/var/run/secrets/telemetry-sidecar';
export const NATS_CREDS_VOLUME_NAME = 'telemetry-sidecar-nats-creds';
const NATS_CREDS_DIR = '/var/run/secrets/telemetry-sidecar-nats';
/** The key a NATS credentials Secret holds its `.creds` file under (docs/jetstream.md). */
const NATS_CREDS_KEY = 'nats.creds';

interface HttpProbe {
  httpGet: { path: string; port: number; scheme: 'HTTP' };
  periodSeconds: number;
  timeoutSeconds: number;
  failureThreshold: number;
}

export interface SidecarContainer {
  name: string;
  image: string;
  imagePullPolicy: string;
  /** Only in native mode: what makes an init container a sidecar (KEP-753). */
  restartPolicy?: 'Always';
  env: EnvVar[];
  ports: { name: string; containerPort: number; protocol: 'TCP' }[];
  resources: SidecarSettings['resources'];
  startupProbe: HttpProbe;
  livenessProbe: HttpProbe;
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; readOnly?: true }[];
}

export type SidecarVolume =
  | { name: string; emptyDir: { sizeLimit: string } }
  | { name: string; secret: { secretName: string; items: { key: string; path: string }[] } };

function probe(path: string, port: number, periodSeconds: number, failureThreshold: number): HttpProbe {
  return { httpGet: { path, port, scheme: 'HTTP' }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

export function renderSidecarContainer(s: SidecarSettings): SidecarContainer {
  const env: EnvVar[] = [
    // Pod name, not node: several SFU pods may share a node, and stats must say which one sent them.
    { name: 'SIDECAR_NODE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    // Loopback only: with hostNetwork this is the node's loopback, see SIDECAR_GRPC_TOKEN_FILE in the docs.
    { name: 'SIDECAR_GRPC_ADDR', value: `127.0.0.1:${s.grpcPort}` },
    // All interfaces so the kubelet's probes and Prometheus reach it on the pod (or node) IP.
    { name: 'SIDECAR_HTTP_ADDR', value: `0.0.0.0:${s.httpPort}` },
    { name: 'SIDECAR_UPSTREAM', value: s.upstream },
    { name: 'LOG_LEVEL', value: s.logLevel },
  ];
  if (s.flushInterval !== '') env.push({ name: 'SIDECAR_FLUSH_INTERVAL', value: s.flushInterval });
  if (s.grpcTokenSecret !== '') env.push({ name: 'SIDECAR_GRPC_TOKEN_FILE', value: `${TOKEN_DIR}/token` });
  if (s.natsCredsSecret !== '') {
    env.push({ name: 'SIDECAR_NATS_CREDS_FILE', value: `${NATS_CREDS_DIR}/${NATS_CREDS_KEY}` });
  }
  // Operator-supplied env last: a later duplicate name wins in Kubernetes, so it can override ours.
  env.push(...s.extraEnv.map((e) => ({ ...e })));

  const container: SidecarContainer = {
    name: SIDECAR_NAME,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    env,
    ports: [{ name: s.portName, containerPort: s.httpPort, protocol: 'TCP' }],
    resources: {
      requests: { ...s.resources.requests },
      limits: { ...s.resources.limits },
    },
    // Native mode: the SFU's containers start only once this passes, so the SFU never races the sidecar.
    startupProbe: probe('/readyz', s.httpPort, 1, 60),
    // No readinessProbe on purpose: a telemetry hiccup must never take the SFU out of its Service.
    livenessProbe: probe('/healthz', s.httpPort, 10, 3),
    securityContext: structuredClone(s.securityContext),
    volumeMounts: [{ name: DATA_VOLUME_NAME, mountPath: DATA_MOUNT_PATH }],
  };
  if (s.grpcTokenSecret !== '') {
    container.volumeMounts.push({ name: TOKEN_VOLUME_NAME, mountPath: TOKEN_DIR, readOnly: true });
  }
  if (s.natsCredsSecret !== '') {
    container.volumeMounts.push({ name: NATS_CREDS_VOLUME_NAME, mountPath: NATS_CREDS_DIR, readOnly: true });
  }
  if (s.mode === 'native') container.restartPolicy = 'Always';
  return container;
}

/** The data emptyDir, and the token and NATS credentials Secrets when set. */
export function renderSidecarVolumes(s: SidecarSettings): SidecarVolume[] {
  const volumes: SidecarVolume[] = [{ name: DATA_VOLUME_NAME, emptyDir: { sizeLimit: s.dataSizeLimit } }];
  if (s.grpcTokenSecret !== '') {
    volumes.push({
      name: TOKEN_VOLUME_NAME,
      secret: { secretName: s.grpcTokenSecret, items: [{ key: 'token', path: 'token' }] },
    });
  }
  if (s.natsCredsSecret !== '') {
    volumes.push({
      name: NATS_CREDS_VOLUME_NAME,
      secret: { secretName: s.natsCredsSecret, items: [{ key: NATS_CREDS_KEY, path: NATS_CREDS_KEY }] },
    });
  }
  return volumes;
}
