/** Loads the product's .proto files (shipped beside dist/ in proto/) with the options the service relies on. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';

export const SIDECAR_PROTO = 'telemetry/sidecar/v1/sidecar.proto';
export const ANALYTICS_PROTO = 'livekit_analytics.proto';

/**
 * longs stay Long objects (exact, so the validity check on uint64 counters is
 * exact), enums stay numbers, defaults filled so absent fields read as zero.
 */
export const LOADER_OPTIONS: Options = { keepCase: false, enums: Number, defaults: true, oneofs: true };

/** The proto/ folder: found upwards from this module, so it works from src/ and from dist/src/. */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, SIDECAR_PROTO))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`proto/${SIDECAR_PROTO} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

let cached: PackageDefinition | undefined;

export function loadPackageDefinition(): PackageDefinition {
  cached ??= loadSync([SIDECAR_PROTO, ANALYTICS_PROTO], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
  return cached;
}
