/**
 * Looks at a request without decoding it: which Session member it carries,
 * its seq, how many stats it holds. Used before the body is decoded (to
 * consult the memory guard only for stats, to echo the seq of a refused
 * message, to count the stats a refusal drops). Nothing is allocated but
 * the result; malformed bytes end the scan with what was found so far.
 */
import { SESSION_REQUEST, TRACK_STATS_REQUEST } from './fields.js';
import { ProtoReader } from './proto-reader.js';
import { u64Seq, type Seq } from './session-decoder.js';

export interface SessionPeek {
  seq: Seq;
  /** The member the decoder will name in `request` (the last present in declaration order); 0 if none. */
  member: number;
}

/**
 * The seq and member of a SessionRequest, from its top-level fields only,
 * read as the decoder reads them: by field number whatever the wire type
 * (so that crafted bytes cannot make the two disagree).
 */
export function peekSessionRequest(buf: Buffer): SessionPeek {
  const r = new ProtoReader(buf);
  let seq: Seq = 0;
  let member = 0;
  try {
    while (r.pos < r.len) {
      const t = r.uint32();
      const field = t >>> 3;
      if (field === SESSION_REQUEST.seq) {
        r.long();
        seq = u64Seq(r.lo, r.hi);
      } else if (field >= SESSION_REQUEST.hello && field <= SESSION_REQUEST.flush) {
        member = Math.max(member, field);
        r.skip(r.uint32());
      } else {
        r.skipType(t & 7, 0);
      }
    }
  } catch {
    // malformed: what was read so far
  }
  return { seq, member };
}

/** Stats entries of a TrackStatsRequest body between r.pos and r.len. */
function countEntries(r: ProtoReader): number {
  let count = 0;
  try {
    while (r.pos < r.len) {
      const t = r.uint32();
      if (t >>> 3 === TRACK_STATS_REQUEST.stats) count++;
      r.skipType(t & 7, 0);
    }
  } catch {
    // malformed: the entries read so far
  }
  return count;
}

/** How many stats a TrackStatsRequest message holds. */
export function countTrackStats(buf: Buffer): number {
  return countEntries(new ProtoReader(buf));
}

/** How many stats a SessionRequest's `stats` member holds (its last occurrence, which is the one decoded). */
export function countSessionStats(buf: Buffer): number {
  const r = new ProtoReader(buf);
  let start = -1;
  let end = -1;
  try {
    while (r.pos < r.len) {
      const t = r.uint32();
      const field = t >>> 3;
      if (field >= SESSION_REQUEST.hello && field <= SESSION_REQUEST.flush) {
        const length = r.uint32();
        if (field === SESSION_REQUEST.stats) {
          start = r.pos;
          end = Math.min(start + length, r.len);
        }
        r.skip(length);
      } else if (field === SESSION_REQUEST.seq) {
        r.long();
      } else {
        r.skipType(t & 7, 0);
      }
    }
  } catch {
    // malformed: the last member that was read whole, or the part that was there
  }
  if (start < 0) return 0;
  const inner = new ProtoReader(buf);
  inner.pos = start;
  inner.len = end;
  return countEntries(inner);
}
