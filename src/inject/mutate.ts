/**
 * The decision for one Pod: inject, leave alone, or admit unchanged because
 * it cannot be patched. Pure, and every expected problem is a value rather
 * than an exception (the SFU must start whatever telemetry thinks of its pod);
 * only a bug of ours throws, and review.ts admits the pod unchanged then too.
 */
import { OVERRIDE_ANNOTATIONS, resolveSettings, wantsInjection } from './annotations.js';
import { buildPodPatch, PatchConflict } from './patch.js';
import type { JsonPatchOp } from './patch.js';
import { PodShapeError, readMeta, readPod } from './pod.js';
import { SettingError } from './settings.js';
import type { InjectMode, SidecarSettings } from './settings.js';
import { SIDECAR_NAME } from './sidecar-container.js';

export type Mutation =
  | { result: 'injected'; reason: 'injected'; pod: string; mode: InjectMode; ops: JsonPatchOp[]; warnings: string[] }
  | { result: 'skipped'; reason: 'not_requested' | 'already_injected'; pod: string; detail: string }
  | {
      result: 'failed';
      reason: 'bad_object' | 'invalid_annotation' | 'port_conflict' | 'volume_conflict' | 'disk_budget';
      pod: string;
      detail: string;
    };

export function mutatePod(obj: unknown, defaults: SidecarSettings): Mutation {
  let pod;
  try {
    const meta = readMeta(obj);
    if (!wantsInjection(meta.annotations, meta.labels)) {
      return { result: 'skipped', reason: 'not_requested', pod: '', detail: 'no telemetry-sidecar/inject: "true"' };
    }
    pod = readPod(obj);
  } catch (err) {
    if (err instanceof PodShapeError) return { result: 'failed', reason: 'bad_object', pod: '', detail: err.message };
    throw err;
  }
  const name = pod.displayName;
  // By container name, in either list: the pod may come from a chart that includes the sidecar itself.
  if (pod.containerNames.includes(SIDECAR_NAME) || pod.initContainerNames.includes(SIDECAR_NAME)) {
    return { result: 'skipped', reason: 'already_injected', pod: name, detail: `pod already has ${SIDECAR_NAME}` };
  }
  try {
    const { settings, unknown } = resolveSettings(defaults, pod.annotations);
    const ops = buildPodPatch(pod, settings);
    const warnings = unknown.map(unknownAnnotation);
    return { result: 'injected', reason: 'injected', pod: name, mode: settings.mode, ops, warnings };
  } catch (err) {
    if (err instanceof SettingError) {
      return { result: 'failed', reason: 'invalid_annotation', pod: name, detail: err.message };
    }
    if (err instanceof PatchConflict) return { result: 'failed', reason: err.reason, pod: name, detail: err.message };
    throw err;
  }
}

/** The warning for an annotation we do not know, naming the one a typo (case, `_` for `-`) most likely meant. */
function unknownAnnotation(annotation: string): string {
  const guess = OVERRIDE_ANNOTATIONS.find((known) => known === annotation.toLowerCase().replaceAll('_', '-'));
  return `telemetry-sidecar: unknown annotation ${annotation} ignored${guess ? ` (did you mean ${guess}?)` : ''}`;
}
