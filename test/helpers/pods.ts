// Pod fixtures as the API server shows them to the webhook on CREATE.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { PodJson } from './webhook.js';

interface DeploymentJson {
  kind: string;
  metadata: { name: string };
  spec: {
    template: { metadata: Required<Pick<PodJson['metadata'], 'labels' | 'annotations'>>; spec: PodJson['spec'] };
  };
}

const LIVEKIT = ((): DeploymentJson => {
  const text = readFileSync(new URL('../inject/fixtures/livekit-server-deployment.yaml', import.meta.url), 'utf8');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as DeploymentJson | null);
  const deployment = docs.find((d) => d?.kind === 'Deployment');
  if (!deployment) throw new Error('fixtures/livekit-server-deployment.yaml has no Deployment');
  return deployment;
})();

/**
 * The pod LiveKit's own livekit-server chart renders (hostNetwork, 5 h termination
 * grace, 7880/TCP, 7881/TCP, 7882/UDP, 6789/TCP metrics), as its ReplicaSet creates
 * it. Its telemetry-sidecar/* annotations are replaced by `annotations`.
 */
export function livekitPod(annotations: Record<string, string> = { 'telemetry-sidecar/inject': 'true' }): PodJson {
  const template = structuredClone(LIVEKIT.spec.template);
  const own = Object.entries(template.metadata.annotations).filter(([k]) => !k.startsWith('telemetry-sidecar/'));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${LIVEKIT.metadata.name}-7d9c8b6f5-`,
      labels: { ...template.metadata.labels, 'pod-template-hash': '7d9c8b6f5' },
      annotations: { ...Object.fromEntries(own), ...annotations },
    },
    spec: template.spec,
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
