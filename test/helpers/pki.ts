// A throwaway CA and server certificates for 127.0.0.1, made with the openssl CLI in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCert: Buffer;
  /** Issues a fresh server certificate for 127.0.0.1 into `<name>.crt` / `<name>.key`. */
  issue(name: string): { certFile: string; keyFile: string; serial: string };
  cleanup(): void;
}

function openssl(dir: string, args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

// P-256 keys: generation is instant, unlike RSA.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'inject-pki-'));
  openssl(dir, [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=inject-test-ca',
  ]);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  let next = 1;
  return {
    dir,
    caCert: readFileSync(join(dir, 'ca.crt')),
    issue(name) {
      const serial = (next++).toString(16).padStart(2, '0').toUpperCase();
      openssl(dir, ['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/CN=127.0.0.1']);
      openssl(dir, [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${serial}`,
        '-days',
        '1',
        '-extfile',
        'san.ext',
        '-out',
        `${name}.crt`,
      ]);
      return { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`), serial };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
