// Pod fixtures as the API server shows them to the webhook on CREATE.
import type { PodJson } from './webhook.js';

/** A pod the way LiveKit's official chart (livekit-server) renders it, with the opt-in in podAnnotations. */
export function livekitPod(annotations: Record<string, string> = { 'telemetry-sidecar/inject': 'true' }): PodJson {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'livekit-server-7d9c8b6f5-',
      labels: { 'app.kubernetes.io/name': 'livekit-server', 'app.kubernetes.io/instance': 'livekit' },
      annotations,
    },
    spec: {
      hostNetwork: true,
      terminationGracePeriodSeconds: 18000,
      containers: [
        {
          name: 'livekit-server',
          image: 'livekit/livekit-server:v1.9.0',
          env: [{ name: 'LIVEKIT_CONFIG', value: 'port: 7880\n' }],
          ports: [
            { name: 'http', containerPort: 7880, protocol: 'TCP' },
            { name: 'rtc-tcp', containerPort: 7881, hostPort: 7881, protocol: 'TCP' },
          ],
          livenessProbe: { httpGet: { path: '/', port: 'http' } },
          readinessProbe: { httpGet: { path: '/', port: 'http' } },
          resources: {},
          securityContext: {},
        },
      ],
    },
  };
}

export function plainPod(meta: PodJson['metadata']): PodJson {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'sfu-0', ...meta },
    spec: { containers: [{ name: 'sfu', image: 'example/sfu:1' }] },
  };
}
