/**
 * Startup checks of the files settings name: a token that is missing or
 * empty, or a PEM file that is not one, stops startup with one line naming
 * the setting, instead of failing (or retrying forever) on first use.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SettingError } from './errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function read(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SettingError(setting, `cannot read ${path}: ${(err as Error).message}`);
  }
}

/** The token a readable file holds, trimmed; a missing or empty file is an error naming the setting. */
export function readTokenFile(setting: string, path: string): string {
  const token = read(setting, path).toString('utf8').trim();
  if (token === '') throw new SettingError(setting, `${path} is empty`);
  return token;
}

/** A readable file holding a non-empty token. */
export function checkTokenFile(setting: string, path: string): void {
  readTokenFile(setting, path);
}

/** A readable PEM file of one or more X.509 certificates (a CA bundle or a chain); returns them. */
export function checkCertificates(setting: string, path: string): X509Certificate[] {
  const blocks = read(setting, path).toString('utf8').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new SettingError(setting, `${path} holds no PEM certificate`);
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new SettingError(setting, `${path}: certificate ${i + 1} is not valid: ${(err as Error).message}`);
    }
  });
}

/** A readable, unencrypted PEM private key; returns it. */
export function checkPrivateKey(setting: string, path: string): KeyObject {
  const pem = read(setting, path);
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new SettingError(setting, `${path} is not a PEM private key: ${(err as Error).message}`);
  }
}

/** A client certificate and the key that goes with it. */
export function checkKeyPair(cert: { setting: string; path: string }, key: { setting: string; path: string }): void {
  const [leaf] = checkCertificates(cert.setting, cert.path);
  const privateKey = checkPrivateKey(key.setting, key.path);
  if (leaf && !leaf.checkPrivateKey(privateKey)) {
    throw new SettingError(key.setting, `${key.path} is not the private key of ${cert.path} (${cert.setting})`);
  }
}

/** A file that can be appended to, its directory created if needed (the NDJSON sink's). */
export function checkAppendableFile(setting: string, path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, 'a'));
  } catch (err) {
    throw new SettingError(setting, `cannot write ${path}: ${(err as Error).message}`);
  }
}
