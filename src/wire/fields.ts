/**
 * The field numbers of every message the hand codec reads or writes, one
 * table per message, keyed by the names the generated types use. The
 * decoder's switches and the encoder take their numbers from here, the
 * compiler holds each table to its generated `__Output` type (every field
 * listed), and test/wire/codec-fields.test.ts holds the numbers to the
 * descriptors loaded from proto/. A field added to the proto therefore fails
 * the typecheck and a test until the codec handles it (CONTRIBUTING.md).
 */
import type { Timestamp__Output } from '../generated/google/protobuf/Timestamp.js';
import type { AnalyticsStat__Output } from '../generated/livekit/AnalyticsStat.js';
import type { AnalyticsStats__Output } from '../generated/livekit/AnalyticsStats.js';
import type { AnalyticsStream__Output } from '../generated/livekit/AnalyticsStream.js';
import type { AnalyticsVideoLayer__Output } from '../generated/livekit/AnalyticsVideoLayer.js';
import type { ActivateRequest__Output } from '../generated/telemetry/sidecar/v1/ActivateRequest.js';
import type { FlushRequest__Output } from '../generated/telemetry/sidecar/v1/FlushRequest.js';
import type { Hello__Output } from '../generated/telemetry/sidecar/v1/Hello.js';
import type { ListWorkersRequest__Output } from '../generated/telemetry/sidecar/v1/ListWorkersRequest.js';
import type { ReleaseRequest__Output } from '../generated/telemetry/sidecar/v1/ReleaseRequest.js';
import type { SessionRequest__Output } from '../generated/telemetry/sidecar/v1/SessionRequest.js';
import type { TrackStat__Output } from '../generated/telemetry/sidecar/v1/TrackStat.js';
import type { TrackStatsRequest__Output } from '../generated/telemetry/sidecar/v1/TrackStatsRequest.js';

/** Every field of the message, and nothing else (a oneof's virtual name is not a field). */
type FieldNumbers<T> = { readonly [K in Exclude<keyof T, 'request'>]-?: number };

export const TIMESTAMP = Object.freeze({ seconds: 1, nanos: 2 } as const satisfies FieldNumbers<Timestamp__Output>);

export const VIDEO_LAYER = Object.freeze({
  layer: 1,
  packets: 2,
  bytes: 3,
  frames: 4,
} as const satisfies FieldNumbers<AnalyticsVideoLayer__Output>);

export const ANALYTICS_STREAM = Object.freeze({
  ssrc: 1,
  primaryPackets: 2,
  primaryBytes: 3,
  retransmitPackets: 4,
  retransmitBytes: 5,
  paddingPackets: 6,
  paddingBytes: 7,
  packetsLost: 8,
  frames: 9,
  rtt: 10,
  jitter: 11,
  nacks: 12,
  plis: 13,
  firs: 14,
  videoLayers: 15,
  startTime: 17,
  endTime: 18,
  packetsOutOfOrder: 19,
} as const satisfies FieldNumbers<AnalyticsStream__Output>);

export const ANALYTICS_STAT = Object.freeze({
  analyticsKey: 1,
  kind: 2,
  timeStamp: 3,
  node: 4,
  roomId: 5,
  roomName: 6,
  participantId: 7,
  trackId: 8,
  score: 9,
  streams: 10,
  mime: 11,
  minScore: 12,
  medianScore: 13,
  id: 14,
} as const satisfies FieldNumbers<AnalyticsStat__Output>);

/**
 * AnalyticsStat fields the decoder reads past: the sidecar stamps them itself
 * at flush (ids, times, node) or computes them (min and median score), as the
 * reference's coalesce ignores them on the way in. Read past with the same
 * malformation checks, never materialised.
 */
export const ANALYTICS_STAT_NOT_DECODED = Object.freeze([
  'analyticsKey',
  'kind',
  'timeStamp',
  'node',
  'roomId',
  'roomName',
  'participantId',
  'trackId',
  'minScore',
  'medianScore',
  'id',
] as const satisfies readonly (keyof typeof ANALYTICS_STAT)[]);

export const ANALYTICS_STATS = Object.freeze({ stats: 1 } as const satisfies FieldNumbers<AnalyticsStats__Output>);

export const TRACK_STAT = Object.freeze({
  roomId: 1,
  participantId: 2,
  trackId: 3,
  kind: 4,
  stat: 5,
  country: 6,
  trackSource: 7,
  trackType: 8,
} as const satisfies FieldNumbers<TrackStat__Output>);

export const TRACK_STATS_REQUEST = Object.freeze({
  stats: 1,
} as const satisfies FieldNumbers<TrackStatsRequest__Output>);

export const HELLO = Object.freeze({ clientId: 1 } as const satisfies FieldNumbers<Hello__Output>);

export const ACTIVATE_REQUEST = Object.freeze({
  roomId: 1,
  roomName: 2,
  participantId: 3,
  participantIdentity: 4,
  guardId: 5,
  connected: 6,
} as const satisfies FieldNumbers<ActivateRequest__Output>);

export const RELEASE_REQUEST = Object.freeze({
  roomId: 1,
  participantId: 2,
  guardId: 3,
} as const satisfies FieldNumbers<ReleaseRequest__Output>);

export const FLUSH_REQUEST = Object.freeze({ waitDelivered: 1 } as const satisfies FieldNumbers<FlushRequest__Output>);

export const LIST_WORKERS_REQUEST = Object.freeze({
  roomId: 1,
} as const satisfies FieldNumbers<ListWorkersRequest__Output>);

/** The `request` oneof's members are fields 2–6, in declaration order. */
export const SESSION_REQUEST = Object.freeze({
  seq: 1,
  hello: 2,
  activate: 3,
  release: 4,
  stats: 5,
  flush: 6,
} as const satisfies FieldNumbers<SessionRequest__Output>);

/** Every table, by the message's full name in proto/ (for the tests that hold them to the descriptors). */
export const CODEC_FIELDS: Readonly<Record<string, Readonly<Record<string, number>>>> = Object.freeze({
  'google.protobuf.Timestamp': TIMESTAMP,
  'livekit.AnalyticsVideoLayer': VIDEO_LAYER,
  'livekit.AnalyticsStream': ANALYTICS_STREAM,
  'livekit.AnalyticsStat': ANALYTICS_STAT,
  'livekit.AnalyticsStats': ANALYTICS_STATS,
  'telemetry.sidecar.v1.TrackStat': TRACK_STAT,
  'telemetry.sidecar.v1.TrackStatsRequest': TRACK_STATS_REQUEST,
  'telemetry.sidecar.v1.Hello': HELLO,
  'telemetry.sidecar.v1.ActivateRequest': ACTIVATE_REQUEST,
  'telemetry.sidecar.v1.ReleaseRequest': RELEASE_REQUEST,
  'telemetry.sidecar.v1.FlushRequest': FLUSH_REQUEST,
  'telemetry.sidecar.v1.ListWorkersRequest': LIST_WORKERS_REQUEST,
  'telemetry.sidecar.v1.SessionRequest': SESSION_REQUEST,
});
