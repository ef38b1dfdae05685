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
export const METRICS_TOKEN_VOLUME_NAME = 'telemetry-sidecar-metrics-token';
const TOKEN_DIR = '/var/run/secrets/telemetry-sidecar';
const METRICS_TOKEN_DIR = '/var/run/secrets/telemetry-sidecar-metrics';
/**
 * The start gate: the sidecar writes this file once it serves, once it has given up
 * starting (SIDECAR_START_FAILURE=idle), or after its start deadline, whichever is
 * first; the startupProbe only checks it exists. See docs/kubernetes.md "Startup".
 */
export const STARTED_FILE = `${DATA_MOUNT_PATH}/.telemetry-sidecar-started`;
/**
 * Backstop only: the sidecar opens the gate itself within its 20 s start deadline.
 * The kubelet restarts it if the file is still missing after 30 probes a second apart
 * (an event loop blocked from the start).
 */
const STARTUP_PROBE = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 30 } as const;
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

interface ExecProbe {
  exec: { command: string[] };
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
  startupProbe: ExecProbe;
  livenessProbe: HttpProbe;
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string; readOnly?: true }[];
}

export type SidecarVolume =
  | { name: string; emptyDir: { sizeLimit: string } }
  | { name: string; secret: { secretName: string; items: { key: string; path: string }[]; optional: true } };

/** The sidecar's own settings as env, in a fixed order (the chart's library template renders the same). */
function sidecarEnv(s: SidecarSettings): EnvVar[] {
  const env: EnvVar[] = [
    // Pod name, not node: several SFU pods may share a node, and stats must say which one sent them.
    { name: 'SIDECAR_NODE_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  if (s.httpBind === 'pod-ip') env.push({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  env.push(
    // Loopback only: with hostNetwork this is the node's loopback, see SIDECAR_GRPC_TOKEN_FILE in the docs.
    { name: 'SIDECAR_GRPC_ADDR', value: `127.0.0.1:${s.grpcPort}` },
    // The pod IP (bracketed, so IPv6 works too) is what the kubelet probes and Prometheus scrapes;
    // with hostNetwork it is the node's InternalIP, not every interface of the node.
    {
      name: 'SIDECAR_HTTP_ADDR',
      value: s.httpBind === 'pod-ip' ? `[$(POD_IP)]:${s.httpPort}` : `0.0.0.0:${s.httpPort}`,
    },
    { name: 'SIDECAR_UPSTREAM', value: s.upstream },
  );
  if (s.upstream.startsWith('file:')) {
    env.push(
      { name: 'SIDECAR_FILE_MAX_BYTES', value: String(s.fileMaxBytes) },
      { name: 'SIDECAR_FILE_MAX_FILES', value: String(s.fileMaxFiles) },
    );
  }
  env.push(
    { name: 'LOG_LEVEL', value: s.logLevel },
    // Never exit on a startup failure: a native sidecar that exits holds the SFU's containers back.
    { name: 'SIDECAR_START_FAILURE', value: 'idle' },
    { name: 'SIDECAR_STARTED_FILE', value: STARTED_FILE },
  );
  if (s.flushInterval !== '') env.push({ name: 'SIDECAR_FLUSH_INTERVAL', value: s.flushInterval });
  if (s.grpcTokenSecret !== '') env.push({ name: 'SIDECAR_GRPC_TOKEN_FILE', value: `${TOKEN_DIR}/token` });
  if (s.metricsTokenSecret !== '') {
    env.push({ name: 'SIDECAR_METRICS_TOKEN_FILE', value: `${METRICS_TOKEN_DIR}/token` });
  }
  if (s.natsCredsSecret !== '') {
    env.push({ name: 'SIDECAR_NATS_CREDS_FILE', value: `${NATS_CREDS_DIR}/${NATS_CREDS_KEY}` });
  }
  // Operator-supplied env last: a later duplicate name wins in Kubernetes, so it can override ours.
  env.push(...s.extraEnv.map((e) => ({ ...e })));
  return env;
}

export function renderSidecarContainer(s: SidecarSettings): SidecarContainer {
  const container: SidecarContainer = {
    name: SIDECAR_NAME,
    image: s.image,
    imagePullPolicy: s.imagePullPolicy,
    env: sidecarEnv(s),
    ports: [{ name: s.portName, containerPort: s.httpPort, protocol: 'TCP' }],
    resources: {
      requests: { ...s.resources.requests },
      limits: { ...s.resources.limits },
    },
    // Native mode: the SFU's containers start once this passes, at most ~21 s after the sidecar starts.
    startupProbe: { exec: { command: ['test', '-e', STARTED_FILE] }, ...STARTUP_PROBE },
    // No readinessProbe on purpose: a telemetry hiccup must never take the SFU out of its Service.
    livenessProbe: {
      httpGet: { path: '/healthz', port: s.httpPort, scheme: 'HTTP' },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold: 3,
    },
    securityContext: structuredClone(s.securityContext),
    volumeMounts: [{ name: DATA_VOLUME_NAME, mountPath: DATA_MOUNT_PATH }],
  };
  if (s.grpcTokenSecret !== '') {
    container.volumeMounts.push({ name: TOKEN_VOLUME_NAME, mountPath: TOKEN_DIR, readOnly: true });
  }
  if (s.metricsTokenSecret !== '') {
    container.volumeMounts.push({ name: METRICS_TOKEN_VOLUME_NAME, mountPath: METRICS_TOKEN_DIR, readOnly: true });
  }
  if (s.natsCredsSecret !== '') {
    container.volumeMounts.push({ name: NATS_CREDS_VOLUME_NAME, mountPath: NATS_CREDS_DIR, readOnly: true });
  }
  if (s.mode === 'native') container.restartPolicy = 'Always';
  return container;
}

/**
 * The data emptyDir, and the token and NATS credentials Secrets when set. The Secrets are optional: a
 * missing Secret must not keep the pod's volumes (and so the SFU) from mounting;
 * the sidecar then fails closed on the missing token file and idles.
 */
export function renderSidecarVolumes(s: SidecarSettings): SidecarVolume[] {
  const volumes: SidecarVolume[] = [{ name: DATA_VOLUME_NAME, emptyDir: { sizeLimit: s.dataSizeLimit } }];
  const secret = (name: string, secretName: string, key = 'token'): SidecarVolume => ({
    name,
    secret: { secretName, items: [{ key, path: key }], optional: true },
  });
  if (s.grpcTokenSecret !== '') volumes.push(secret(TOKEN_VOLUME_NAME, s.grpcTokenSecret));
  if (s.metricsTokenSecret !== '') volumes.push(secret(METRICS_TOKEN_VOLUME_NAME, s.metricsTokenSecret));
  if (s.natsCredsSecret !== '') volumes.push(secret(NATS_CREDS_VOLUME_NAME, s.natsCredsSecret, NATS_CREDS_KEY));
  return volumes;
}
