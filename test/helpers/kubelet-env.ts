/**
 * A container's env as the kubelet hands it to the process: `fieldRef`s
 * resolved (an IPv4 pod IP, the common case) and `$(VAR)` replaced by a
 * variable defined earlier in the list, as Kubernetes expands them.
 */
export interface EnvVarSpec {
  name: string;
  value?: string;
  valueFrom?: Record<string, unknown>;
}

export const FIELD_VALUES: Readonly<Record<string, string>> = {
  'status.podIP': '10.0.0.7',
  'metadata.name': 'livekit-0',
};

export function kubeletEnv(spec: readonly EnvVarSpec[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of spec) {
    const fieldPath = (e.valueFrom?.fieldRef as { fieldPath?: string } | undefined)?.fieldPath;
    const raw = e.value ?? (fieldPath === undefined ? undefined : FIELD_VALUES[fieldPath]);
    if (raw !== undefined) env[e.name] = raw.replace(/\$\((\w+)\)/g, (ref, name: string) => env[name] ?? ref);
  }
  return env;
}
