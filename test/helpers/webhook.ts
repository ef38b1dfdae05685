// Starts the real webhook server over HTTPS and talks to it the way the API server does.
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { Pod } from 'kubernetes-models/v1';
import { InjectMetrics } from '../../src/inject/metrics.js';
import type { InjectLogger } from '../../src/inject/review.js';
import { MUTATE_PATH, startWebhookServer } from '../../src/inject/server.js';
import type { WebhookServer } from '../../src/inject/server.js';
import { BUILTIN_DEFAULTS } from '../../src/inject/settings.js';
import type { SidecarSettings } from '../../src/inject/settings.js';
import type { TestPki } from './pki.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

export function recordingLogger(lines: LogLine[]): InjectLogger {
  const at = (level: LogLine['level']) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface HttpReply {
  status: number;
  text: string;
  contentType: string;
  /** Serial number of the certificate the server presented. */
  serial: string;
}

export interface TestWebhook {
  server: WebhookServer;
  metrics: InjectMetrics;
  logs: LogLine[];
  send(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<HttpReply>;
  review(body: unknown): Promise<HttpReply & { json: ReviewOut }>;
  close(): Promise<void>;
}

export interface ReviewOut {
  apiVersion?: string;
  kind?: string;
  error?: string;
  response?: { uid: string; allowed: boolean; patchType?: string; patch?: string; warnings?: string[] };
}

export async function startTestWebhook(
  pki: TestPki,
  files: { certFile: string; keyFile: string },
  defaults: SidecarSettings = BUILTIN_DEFAULTS,
): Promise<TestWebhook> {
  const metrics = new InjectMetrics();
  const logs: LogLine[] = [];
  const server = await startWebhookServer({
    host: '127.0.0.1',
    port: 0,
    tlsCertFile: files.certFile,
    tlsKeyFile: files.keyFile,
    certReloadIntervalMs: 0,
    deps: { defaults, logger: recordingLogger(logs), metrics },
  });
  const send = (method: string, path: string, body?: string, headers?: Record<string, string>): Promise<HttpReply> =>
    new Promise((resolve, reject) => {
      const req = request(
        // A fresh connection each time (agent: false) so a reloaded certificate is seen at once.
        { host: '127.0.0.1', port: server.port, path, method, ca: pki.caCert, agent: false },
        (res) => {
          const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              text: Buffer.concat(chunks).toString(),
              contentType: res.headers['content-type'] ?? '',
              serial,
            }),
          );
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.setHeader('content-type', 'application/json');
      for (const [k, v] of Object.entries(headers ?? {})) req.setHeader(k, v);
      req.end(body);
    });
  return {
    server,
    metrics,
    logs,
    send,
    async review(body) {
      const reply = await send('POST', MUTATE_PATH, typeof body === 'string' ? body : JSON.stringify(body));
      return { ...reply, json: JSON.parse(reply.text) as ReviewOut };
    },
    close: () => server.close(),
  };
}

let uidSeq = 0;

/** An AdmissionReview for a Pod CREATE, as the API server sends it. */
export function podReview(pod: object, namespace = 'livekit'): { uid: string; body: object } {
  const uid = `00000000-0000-4000-8000-${String(++uidSeq).padStart(12, '0')}`;
  return {
    uid,
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        namespace,
        operation: 'CREATE',
        userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
        object: pod,
        oldObject: null,
        dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      },
    },
  };
}

export interface PodJson {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    generateName?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    hostNetwork?: boolean;
    terminationGracePeriodSeconds?: number;
    containers: ContainerJson[];
    initContainers?: ContainerJson[];
    volumes?: { name: string; emptyDir?: { sizeLimit?: string }; secret?: Record<string, unknown> }[];
  };
}

export interface ContainerJson {
  name: string;
  image?: string;
  restartPolicy?: string;
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number; hostPort?: number; protocol?: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: { httpGet?: { path: string; port: number | string }; exec?: { command: string[] } };
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readinessProbe?: unknown;
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

/** Decodes the base64 JSONPatch, applies it with fast-json-patch and validates the Pod against the Kubernetes schema. */
export function applyReviewPatch(pod: PodJson, patch: string): PodJson {
  const ops = JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as Operation[];
  const patched = jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument;
  new Pod(patched as ConstructorParameters<typeof Pod>[0]).validate();
  return patched;
}

export function envOf(c: ContainerJson): Record<string, string> {
  return Object.fromEntries(
    (c.env ?? []).map((e) => [e.name, e.value ?? `<${e.valueFrom?.fieldRef?.fieldPath ?? '?'}>`]),
  );
}
