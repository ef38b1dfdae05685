/**
 * The hand codec against proto/ itself: its field tables (src/wire/fields.ts)
 * name every field of every message it reads or writes with the number the
 * .proto files give it, the decoder reads every field it does not skip on
 * purpose, and the encoder writes every field of what it encodes. A field
 * added to the proto fails here until the codec handles it
 * (CONTRIBUTING.md, "Adding a field to the proto").
 */
import type protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { AnalyticsStat } from '../../src/core/analytics.js';
import { encodeAnalyticsStatsEntryInto } from '../../src/wire/analytics-encoder.js';
import { encodeChecked } from '../helpers/encode.js';
import { ANALYTICS_STAT_NOT_DECODED, CODEC_FIELDS } from '../../src/wire/fields.js';
import { decodeListWorkersRequest, decodeSessionRequest } from '../../src/wire/session-decoder.js';
import { loadProtoRoot } from '../helpers/proto-schema.js';
import { stream, blankStat } from '../helpers/stats.js';

const root = loadProtoRoot();
const typeOf = (name: string) => root.lookupType(name);

/** A value of the field's type other than its default. */
function sampleValue(field: protobuf.Field): unknown {
  const resolved = field.resolvedType;
  let value: unknown;
  if (resolved && 'fieldsArray' in resolved) value = {};
  else if (resolved)
    value = 1; // an enum's second value
  else if (field.type === 'string') value = 'x';
  else if (field.type === 'bool') value = true;
  else if (field.type === 'bytes') value = Buffer.from([7]);
  else if (field.type === 'float' || field.type === 'double') value = 1.5;
  else value = 7;
  return field.repeated ? [value] : value;
}

const SessionRequest = typeOf('telemetry.sidecar.v1.SessionRequest');
const decodeSession = (request: object) =>
  decodeSessionRequest(Buffer.from(SessionRequest.encode(SessionRequest.fromObject(request)).finish()));

/** Where each message the decoder reads sits in a request, and how that request is decoded. */
const DECODED: Record<string, { place: (m: object) => object; decode: (request: object) => unknown }> = {
  'telemetry.sidecar.v1.SessionRequest': { place: (m) => m, decode: decodeSession },
  'telemetry.sidecar.v1.Hello': { place: (m) => ({ hello: m }), decode: decodeSession },
  'telemetry.sidecar.v1.ActivateRequest': { place: (m) => ({ activate: m }), decode: decodeSession },
  'telemetry.sidecar.v1.ReleaseRequest': { place: (m) => ({ release: m }), decode: decodeSession },
  'telemetry.sidecar.v1.FlushRequest': { place: (m) => ({ flush: m }), decode: decodeSession },
  'telemetry.sidecar.v1.TrackStatsRequest': { place: (m) => ({ stats: m }), decode: decodeSession },
  'telemetry.sidecar.v1.TrackStat': { place: (m) => ({ stats: { stats: [m] } }), decode: decodeSession },
  'livekit.AnalyticsStat': { place: (m) => ({ stats: { stats: [{ stat: m }] } }), decode: decodeSession },
  'livekit.AnalyticsStream': {
    place: (m) => ({ stats: { stats: [{ stat: { streams: [m] } }] } }),
    decode: decodeSession,
  },
  'livekit.AnalyticsVideoLayer': {
    place: (m) => ({ stats: { stats: [{ stat: { streams: [{ videoLayers: [m] }] } }] } }),
    decode: decodeSession,
  },
  'google.protobuf.Timestamp': {
    place: (m) => ({ stats: { stats: [{ stat: { streams: [{ startTime: m }] } }] } }),
    decode: decodeSession,
  },
  'telemetry.sidecar.v1.ListWorkersRequest': {
    place: (m) => m,
    decode: (request) => {
      const type = typeOf('telemetry.sidecar.v1.ListWorkersRequest');
      return decodeListWorkersRequest(Buffer.from(type.encode(type.fromObject(request)).finish()));
    },
  },
};

/** Fields the decoder reads past on purpose, by message. */
const NOT_DECODED: Record<string, readonly string[]> = { 'livekit.AnalyticsStat': ANALYTICS_STAT_NOT_DECODED };

describe('codec field tables', () => {
  for (const [message, table] of Object.entries(CODEC_FIELDS)) {
    it(`name every field of ${message} with the number proto/ gives it`, () => {
      const fields = Object.fromEntries(typeOf(message).fieldsArray.map((f) => [f.name, f.id]));
      expect(table).toEqual(fields);
    });
  }

  it('cover every message the decoder reads and the encoder writes', () => {
    expect(Object.keys(CODEC_FIELDS).sort()).toEqual([...Object.keys(DECODED), 'livekit.AnalyticsStats'].sort());
  });
});

describe('hand decoder', () => {
  for (const [message, { place, decode }] of Object.entries(DECODED)) {
    it(`reads every field of ${message} (but the ones it skips on purpose)`, () => {
      const skipped = NOT_DECODED[message] ?? [];
      // with every field at its default, the message is there but empty
      const baseline = decode(place({}));
      for (const field of typeOf(message).fieldsArray) {
        const decoded = decode(place({ [field.name]: sampleValue(field) }));
        if (skipped.includes(field.name)) expect(decoded, `${message}.${field.name} is read past`).toEqual(baseline);
        else expect(decoded, `${message}.${field.name} is not read by the decoder`).not.toEqual(baseline);
      }
    });
  }
});

/** Where each message the encoder writes sits in a stat (a core AnalyticsStat). */
const ENCODED: Record<string, (m: Record<string, unknown>) => AnalyticsStat> = {
  'livekit.AnalyticsStat': (m) => ({ ...blankStat(), ...m }),
  'livekit.AnalyticsStream': (m) => ({ ...blankStat(), streams: [{ ...stream(), ...m }] }),
  'livekit.AnalyticsVideoLayer': (m) => ({
    ...blankStat(),
    streams: [{ ...stream(), videoLayers: [{ layer: 0, packets: 0, bytes: 0, frames: 0, ...m }] }],
  }),
  'google.protobuf.Timestamp': (m) => ({ ...blankStat(), timeStamp: { seconds: 0, nanos: 0, ...m } }),
};

/** The core's value for a field, other than its default. */
function coreValue(field: protobuf.Field): unknown {
  const resolved = field.resolvedType;
  if (resolved && 'fieldsArray' in resolved) {
    if (resolved.fullName === '.google.protobuf.Timestamp') return { seconds: 7, nanos: 7 };
    if (resolved.fullName === '.livekit.AnalyticsStream') return [stream()];
    if (resolved.fullName === '.livekit.AnalyticsVideoLayer') return [{ layer: 0, packets: 0, bytes: 0, frames: 0 }];
  }
  return sampleValue(field);
}

describe('hand encoder', () => {
  const AnalyticsStats = typeOf('livekit.AnalyticsStats');
  const readBack = (stat: AnalyticsStat) =>
    AnalyticsStats.toObject(AnalyticsStats.decode(encodeChecked(encodeAnalyticsStatsEntryInto, stat)), {
      longs: Number,
      defaults: false,
    });

  for (const [message, place] of Object.entries(ENCODED)) {
    it(`writes every field of ${message}`, () => {
      const baseline = readBack(place({}));
      for (const field of typeOf(message).fieldsArray) {
        const written = readBack(place({ [field.name]: coreValue(field) }));
        expect(written, `${message}.${field.name} is not written by the encoder`).not.toEqual(baseline);
      }
    });
  }
});
