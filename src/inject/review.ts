/**
 * admission.k8s.io/v1 AdmissionReview in, AdmissionReview out. Anything
 * that reached us as a well-formed review is answered `allowed: true` (with
 * or without a patch): telemetry must never stop an SFU pod from starting.
 * Only a body that is not a review at all gets an HTTP error, because
 * there is no `request.uid` to answer to.
 */
import type { InjectMetrics } from './metrics.js';
import { mutatePod } from './mutate.js';
import type { SidecarSettings } from './settings.js';

/** The slice of pino's API the webhook uses, so tests and callers can pass any logger. */
export interface InjectLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ReviewDeps {
  defaults: SidecarSettings;
  logger: InjectLogger;
  metrics: InjectMetrics;
}

export interface ReviewReply {
  /** HTTP status code of the reply. */
  status: number;
  body: AdmissionReviewOut | { error: string };
}

export interface AdmissionResponse {
  uid: string;
  allowed: true;
  patchType?: 'JSONPatch';
  /** base64 of the JSON array of operations. */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

const API_VERSION = 'admission.k8s.io/v1';
/**
 * Never injected, whatever reaches us: the cluster's own pods must start even if
 * the chart's namespaceSelector was edited away (Istio hard-codes the same two).
 */
export const SYSTEM_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(deps: ReviewDeps, reason: string, message: string): ReviewReply {
  deps.metrics.add('malformed', reason);
  deps.logger.warn({ reason }, `rejected malformed admission review: ${message}`);
  return { status: 400, body: { error: message } };
}

function reply(response: AdmissionResponse): ReviewReply {
  return { status: 200, body: { apiVersion: API_VERSION, kind: 'AdmissionReview', response } };
}

/** True for a v1 Pod CREATE (the only thing the chart registers us for; anything else is left alone). */
function isPodCreate(request: Record<string, unknown>): boolean {
  const kind = request.kind;
  return (
    request.operation === 'CREATE' &&
    isRecord(kind) &&
    kind.group === '' &&
    kind.version === 'v1' &&
    kind.kind === 'Pod' &&
    (request.subResource === undefined || request.subResource === '')
  );
}

export function answerReview(raw: string, deps: ReviewDeps): ReviewReply {
  let review: unknown;
  try {
    review = JSON.parse(raw);
  } catch (err) {
    return malformed(deps, 'bad_json', `request body is not JSON: ${(err as Error).message}`);
  }
  if (!isRecord(review) || review.apiVersion !== API_VERSION || review.kind !== 'AdmissionReview') {
    const got = isRecord(review) ? `${String(review.apiVersion)} ${String(review.kind)}` : typeof review;
    return malformed(deps, 'bad_review', `expected apiVersion ${API_VERSION} kind AdmissionReview, got ${got}`);
  }
  const request = review.request;
  if (!isRecord(request)) return malformed(deps, 'no_request', 'AdmissionReview has no request');
  const uid = request.uid;
  if (typeof uid !== 'string' || uid === '') return malformed(deps, 'no_request', 'AdmissionReview request has no uid');

  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  if (!isPodCreate(request)) {
    deps.metrics.add('skipped', 'not_pod_create');
    deps.logger.debug({ uid, namespace }, 'not a Pod CREATE; admitted unchanged');
    return reply({ uid, allowed: true });
  }

  if (SYSTEM_NAMESPACES.has(namespace)) {
    deps.metrics.add('skipped', 'system_namespace');
    deps.logger.debug({ uid, namespace }, 'system namespace; admitted unchanged');
    return reply({ uid, allowed: true });
  }

  let m;
  try {
    m = mutatePod(request.object, deps.defaults);
  } catch (err) {
    // A bug of ours; the pod still starts, without the sidecar.
    deps.metrics.add('failed', 'internal');
    deps.logger.error({ uid, namespace, err }, 'injection failed unexpectedly; pod admitted unchanged');
    return reply({ uid, allowed: true, warnings: ['telemetry-sidecar not injected: internal error in the webhook'] });
  }
  deps.metrics.add(m.result, m.reason);
  const ctx = { uid, namespace, pod: m.pod, reason: m.reason };
  switch (m.result) {
    case 'injected': {
      deps.logger.info({ ...ctx, mode: m.mode }, 'injected telemetry sidecar');
      const response: AdmissionResponse = {
        uid,
        allowed: true,
        patchType: 'JSONPatch',
        patch: Buffer.from(JSON.stringify(m.ops)).toString('base64'),
      };
      if (m.warnings.length > 0) response.warnings = m.warnings;
      return reply(response);
    }
    case 'skipped':
      deps.logger.debug(ctx, `not injected: ${m.detail}`);
      return reply({ uid, allowed: true });
    case 'failed':
      deps.logger.warn({ ...ctx, detail: m.detail }, `pod admitted without telemetry sidecar: ${m.detail}`);
      return reply({ uid, allowed: true, warnings: [`telemetry-sidecar not injected: ${m.detail}`] });
  }
}
