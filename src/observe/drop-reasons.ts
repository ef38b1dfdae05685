/**
 * Every reason a stat can be lost or refused, with its meaning: the one list
 * `telemetry_sidecar_stats_dropped_total{reason}` is zero-initialised from and
 * docs/metrics.md documents (a test holds both to it). Add a reason here
 * before counting it.
 */
export const DROP_REASONS = {
  memory_limit:
    'refused at ingest: the memory guard was shedding load (SIDECAR_MEMORY_LIMIT_MB; the client got UNAVAILABLE and may retry)',
  memory_pressure: 'queued for delivery, dropped oldest-first by the memory guard to get back under its low watermark',
  track_limit:
    'refused at ingest: a worker would hold more than SIDECAR_MAX_TRACKS_PER_WORKER tracks (RESOURCE_EXHAUSTED)',
  request_limit:
    'refused at ingest: a request over a structural limit (message size, stats, streams, layers or nested messages per request; RESOURCE_EXHAUSTED, docs/api.md)',
  malformed:
    'refused at ingest: a request that is not valid protobuf (INVALID_ARGUMENT); its stats are counted as far as they can be read',
  shutting_down: 'refused at ingest: the sidecar was shutting down (UNAVAILABLE)',
  invalid_argument:
    'refused at ingest: a TrackStats request with a bad id or no stat (INVALID_ARGUMENT); or a batch the upstream refused with INVALID_ARGUMENT',
  queue_full:
    'the delivery queue was over SIDECAR_QUEUE_MAX_BYTES: the oldest batch was dropped (also spool records over the bound at start)',
  shutdown:
    'still undelivered when SIDECAR_SHUTDOWN_TIMEOUT ran out and not in the spool (with a spool, counted again at the next start)',
  spool_corrupt:
    'a torn or corrupt spool record skipped at start (its stat count is read from a header checksummed apart)',
  spool_sink_changed: 'a spool record written for another sink format (the upstream kind changed between runs)',
  quarantined:
    'a poison batch: it kept failing while the upstream accepted others, and was moved to SIDECAR_SPOOL_DIR/quarantine (or discarded without a spool)',
  file_rotated: 'the file: sink removed its oldest rotated file (SIDECAR_FILE_MAX_BYTES × SIDECAR_FILE_MAX_FILES)',
  not_found: 'the upstream refused a batch with NOT_FOUND',
  already_exists: 'the upstream refused a batch with ALREADY_EXISTS',
  permission_denied: 'the upstream refused a batch with PERMISSION_DENIED',
  failed_precondition: 'the upstream refused a batch with FAILED_PRECONDITION',
  out_of_range: 'the upstream refused a batch with OUT_OF_RANGE',
  unimplemented: 'the upstream refused a batch with UNIMPLEMENTED (not an AnalyticsRecorderService?)',
  data_loss: 'the upstream refused a batch with DATA_LOSS',
  unauthenticated: 'the upstream refused a batch with UNAUTHENTICATED (check SIDECAR_UPSTREAM_TOKEN_FILE)',
  no_stream:
    'the NATS upstream: no JetStream stream captures the subject (create one, or set SIDECAR_NATS_CREATE_STREAM)',
  too_large: "the NATS upstream: a single stat is larger than the server's max_payload (batches are split first)",
  rejected: 'the NATS upstream: JetStream refused the message with a 4xx error (the log line has its err_code)',
  unencodable:
    'a coalesced stat the sink cannot encode (a start or end time outside years 1-9999 has no protobuf-JSON form): dropped at the flush',
  internal: 'an unexpected error (a bug: the log has the stack)',
} as const satisfies Record<string, string>;

export type DropReason = keyof typeof DROP_REASONS;

export function isDropReason(reason: string): reason is DropReason {
  return Object.hasOwn(DROP_REASONS, reason);
}
