/**
 * Validation of wire requests and their conversion to core inputs. A request
 * is checked whole before anything is applied, so a refused request changes
 * nothing and its retry cannot double-count.
 */
import { StreamType } from '../core/analytics.js';
import { SidecarError } from '../core/errors.js';
import type { ActivateInput, ReleaseInput, TrackStatInput } from '../core/registry.js';
import type { ActivateRequest__Output } from '../generated/telemetry/sidecar/v1/ActivateRequest.js';
import type { ReleaseRequest__Output } from '../generated/telemetry/sidecar/v1/ReleaseRequest.js';
import type { DecodedTrackStat } from '../wire/session-decoder.js';

/** Ids are 1–256 bytes (track ids 0–256; docs/api.md): bounded memory per key and per log line. */
export const MAX_ID_BYTES = 256;
/** Country labels are ISO codes; anything longer is refused rather than stored. */
const MAX_COUNTRY_BYTES = 64;

/** Whether the UTF-8 form is 1–256 bytes, without encoding the common short id. */
function fitsIdBytes(value: string): boolean {
  if (value.length === 0 || value.length > MAX_ID_BYTES) return false;
  // a UTF-16 code unit is at most 3 UTF-8 bytes
  return value.length * 3 <= MAX_ID_BYTES || Buffer.byteLength(value) <= MAX_ID_BYTES;
}

export function requireId(value: string, field: string): string {
  if (!fitsIdBytes(value)) {
    throw new SidecarError(
      'INVALID_ARGUMENT',
      `${field} must be 1-${MAX_ID_BYTES} bytes, got ${Buffer.byteLength(value)}`,
    );
  }
  return value;
}

function optionalText(value: string, field: string, max = MAX_ID_BYTES): string {
  if (value.length > 0 && Buffer.byteLength(value) > max) {
    throw new SidecarError(
      'INVALID_ARGUMENT',
      `${field} must be at most ${max} bytes, got ${Buffer.byteLength(value)}`,
    );
  }
  return value;
}

export function toActivateInput(req: ActivateRequest__Output): ActivateInput {
  return {
    roomId: requireId(req.roomId, 'room_id'),
    roomName: optionalText(req.roomName, 'room_name'),
    participantId: requireId(req.participantId, 'participant_id'),
    participantIdentity: optionalText(req.participantIdentity, 'participant_identity'),
    guardId: optionalText(req.guardId, 'guard_id'),
    connected: req.connected,
  };
}

export function toReleaseInput(req: ReleaseRequest__Output): ReleaseInput {
  return {
    roomId: requireId(req.roomId, 'room_id'),
    participantId: requireId(req.participantId, 'participant_id'),
    guardId: requireId(req.guardId, 'guard_id'),
  };
}

export interface TrackStatEntry extends TrackStatInput {
  readonly country: string;
}

/** Checks and converts decoded TrackStats; the hand decoder already gives the stats in the core's shape. */
export function toTrackStatInputs(stats: readonly DecodedTrackStat[]): TrackStatEntry[] {
  const out: TrackStatEntry[] = new Array<TrackStatEntry>(stats.length);
  for (let i = 0; i < stats.length; i++) {
    const s = stats[i]!;
    if (s.kind !== StreamType.UPSTREAM && s.kind !== StreamType.DOWNSTREAM) {
      throw new SidecarError(
        'INVALID_ARGUMENT',
        `${at(i)}.kind must be UPSTREAM (0) or DOWNSTREAM (1), got ${String(s.kind)}`,
      );
    }
    if (!s.stat) throw new SidecarError('INVALID_ARGUMENT', `${at(i)}.stat is required`);
    out[i] = {
      roomId: requireStatId(s.roomId, i, 'room_id'),
      participantId: requireStatId(s.participantId, i, 'participant_id'),
      // empty is legal: LiveKit keys participant-level data stats with an empty track id
      trackId: s.trackId.length * 3 <= MAX_ID_BYTES ? s.trackId : optionalText(s.trackId, `${at(i)}.track_id`),
      kind: s.kind,
      stat: s.stat,
      country:
        s.country.length * 3 <= MAX_COUNTRY_BYTES
          ? s.country
          : optionalText(s.country, `${at(i)}.country`, MAX_COUNTRY_BYTES),
    };
  }
  return out;
}

const at = (i: number) => `stats[${i}]`;

/** requireId without building the field name unless the id is refused (this runs per stat). */
function requireStatId(value: string, i: number, field: string): string {
  return fitsIdBytes(value) ? value : requireId(value, `${at(i)}.${field}`);
}
