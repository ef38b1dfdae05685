/**
 * Item 3 of issue 12 end to end: the pod LiveKit's own chart renders, patched by the
 * real webhook, and the sidecar container it injects run as the kubelet would run
 * it, on a node where its HTTP port is already taken. The sidecar cannot start, and
 * still opens the startup gate the SFU's containers wait on.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { START_DEADLINE_MS } from '../../src/observe/start-gate.js';
import { DATA_MOUNT_PATH } from '../../src/inject/settings.js';
import { makePki } from '../helpers/pki.js';
import type { TestPki } from '../helpers/pki.js';
import { spawnMain } from '../helpers/process.js';
import { livekitPod } from '../helpers/pods.js';
import { applyReviewPatch, podReview, startTestWebhook } from '../helpers/webhook.js';
import type { ContainerJson, PodJson, TestWebhook } from '../helpers/webhook.js';

let pki: TestPki;
let hook: TestWebhook;
let dir: string;
let busy: Server;
let busyPort: number;

beforeAll(async () => {
  pki = makePki();
  hook = await startTestWebhook(pki, pki.issue('server'));
  dir = mkdtempSync(join(tmpdir(), 'livekit-gate-'));
  // Another host-network process on the node already listens on the port we pick.
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});

afterAll(async () => {
  await hook?.close();
  pki?.cleanup();
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function injectedLivekitPod(annotations: Record<string, string>): Promise<PodJson> {
  const pod = livekitPod({ 'telemetry-sidecar/inject': 'true', ...annotations });
  const reply = await hook.review(podReview(pod).body);
  const patch = reply.json.response?.patch;
  if (patch === undefined) throw new Error(`not injected: ${JSON.stringify(reply.json.response?.warnings)}`);
  return applyReviewPatch(pod, patch); // validates the patched Pod against the Kubernetes schema
}

/** The container's env as the kubelet resolves it: downward API fields, then $(VAR) references. */
function kubeletEnv(c: ContainerJson, fields: Record<string, string>, dataDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    const raw = path !== undefined ? (fields[path] ?? '') : (e.value ?? '');
    const expanded = raw.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string) => env[name] ?? m);
    // The data volume is mounted at /data in the container; here it is a temp dir.
    env[e.name] = expanded.replaceAll(`${DATA_MOUNT_PATH}/`, `${dataDir}/`);
  }
  return env;
}

describe('a failing sidecar in the pod LiveKit’s chart renders', () => {
  it('keeps the pod valid and LiveKit’s own containers, host network and 5 h grace untouched', async () => {
    const pod = livekitPod();
    const patched = await injectedLivekitPod({});
    expect(patched.spec.hostNetwork).toBe(true);
    expect(patched.spec.terminationGracePeriodSeconds).toBe(18000);
    expect(patched.spec.containers).toEqual(pod.spec.containers);
    expect(patched.spec.initContainers?.map((c) => [c.name, c.restartPolicy])).toEqual([
      ['telemetry-sidecar', 'Always'],
    ]);
  });

  it('opens the startup gate within its deadline when it cannot bind its HTTP port', async () => {
    const patched = await injectedLivekitPod({ 'telemetry-sidecar/http-port': String(busyPort) });
    const sidecar = patched.spec.initContainers?.find((c) => c.name === 'telemetry-sidecar');
    if (!sidecar?.startupProbe?.exec) throw new Error('no exec startupProbe');
    const probe = sidecar.startupProbe as {
      exec: { command: string[] };
      periodSeconds: number;
      failureThreshold: number;
    };

    // The SFU waits at most the sidecar's own deadline plus one probe period (~21 s), and
    // the kubelet's backstop (failureThreshold × period) never fires before the deadline.
    expect(START_DEADLINE_MS / 1000 + probe.periodSeconds).toBeLessThanOrEqual(30);
    expect(probe.failureThreshold * probe.periodSeconds).toBeGreaterThan(START_DEADLINE_MS / 1000);

    const env = kubeletEnv(
      sidecar,
      { 'metadata.name': 'livekit-livekit-server-7d9c8b6f5-x2x9z', 'status.podIP': '127.0.0.1' },
      dir,
    );
    expect(env.SIDECAR_HTTP_ADDR).toBe(`[127.0.0.1]:${busyPort}`);
    const command = probe.exec.command.map((a) => a.replaceAll(`${DATA_MOUNT_PATH}/`, `${dir}/`));
    const probeOnce = () => spawnSync(command[0]!, command.slice(1)).status;
    expect(probeOnce()).not.toBe(0);

    // As the image's ENTRYPOINT runs it (node dist/src/main.js), with the injected env.
    const p = spawnMain([], env, dir);
    try {
      await p.line(/not started: idling until terminated/);
      expect(p.output()).toMatch(/EADDRINUSE/);
      expect(probeOnce()).toBe(0);
      expect(p.child.exitCode).toBeNull(); // still running: the kubelet has nothing to restart
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });
});
