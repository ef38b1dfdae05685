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

/**
 * Checks decoded TrackStats and hands back the same array as the registry's
 * input: a decoded stat already has the core's shape, so once its kind, stat
 * and ids pass it is used as it is, not copied (a copy per stat showed in the
 * decoder's instruction counts, bench/README.md).
 */
export function toTrackStatInputs(stats: readonly DecodedTrackStat[]): readonly TrackStatEntry[] {
  for (let i = 0; i < stats.length; i++) {
    const s = stats[i]!;
    if (s.kind !== StreamType.UPSTREAM && s.kind !== StreamType.DOWNSTREAM) {
      throw new SidecarError(
        'INVALID_ARGUMENT',
        `${at(i)}.kind must be UPSTREAM (0) or DOWNSTREAM (1), got ${String(s.kind)}`,
      );
    }
    if (!s.stat) throw new SidecarError('INVALID_ARGUMENT', `${at(i)}.stat is required`);
    requireStatId(s.roomId, i, 'room_id');
    requireStatId(s.participantId, i, 'participant_id');
    // empty is legal: LiveKit keys participant-level data stats with an empty track id
    if (s.trackId.length * 3 > MAX_ID_BYTES) optionalText(s.trackId, `${at(i)}.track_id`);
    if (s.country.length * 3 > MAX_COUNTRY_BYTES) optionalText(s.country, `${at(i)}.country`, MAX_COUNTRY_BYTES);
  }
  // every stat has passed the checks that make it a TrackStatEntry
  return stats as readonly TrackStatEntry[];
}

const at = (i: number) => `stats[${i}]`;

/** requireId without building the field name unless the id is refused (this runs per stat). */
function requireStatId(value: string, i: number, field: string): void {
  if (!fitsIdBytes(value)) requireId(value, `${at(i)}.${field}`);
}
