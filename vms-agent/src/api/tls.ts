/**
 * TLS for the API (`serve --tls-cert FILE --tls-key FILE`): the
 * certificate chain and key are read once at start, checked to belong
 * together, and handed to fastify's https server. Without them the API
 * speaks plain HTTP, which is only safe on the loopback interface (the
 * default listen address): bearer tokens cross the network in clear.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** Set when the key file can be read by group or others (the caller logs it). */
  keyModeWarning?: string;
}

/** Reads and checks the PEM files; throws an Error that names the file and what is wrong. */
export function loadTlsFiles(certFile: string, keyFile: string): TlsFiles {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read the TLS ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const cert = read(certFile, 'certificate');
  const key = read(keyFile, 'key');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new Error(`the TLS certificate ${certFile} and key ${keyFile} cannot be used together: ${(err as Error).message}`);
  }
  const mode = statSync(keyFile).mode & 0o777;
  return { cert, key, ...(mode & 0o077 ? { keyModeWarning: `the TLS key ${keyFile} is mode ${mode.toString(8)}; make it readable by the service only (chmod 600)` } : {}) };
}

/** Whether `host` (a --listen host) is a loopback address, where plain HTTP does not cross a network. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}
