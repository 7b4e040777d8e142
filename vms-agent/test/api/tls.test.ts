/**
 * The API over TLS (issue 13, finding 4: "the API speaks only plain HTTP"),
 * with a certificate openssl makes for this test: node's https client and
 * the vms-agent CLI as real TLS clients, against buildApp and against the
 * built `vms-agent serve --tls-cert --tls-key`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess } from '../../../test/src/harness/managed-process.js';
import { buildApp, type ApiInstance } from '../../src/api/app.js';
import { hashToken, newToken } from '../../src/api/auth.js';
import { ServiceMetrics } from '../../src/api/metrics.js';
import { isLoopbackHost, loadTlsFiles } from '../../src/api/tls.js';
import { CommandService } from '../../src/commands/command-service.js';
import { formatMasterKey, SecretBox } from '../../src/store/secret-box.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { rng } from '../helpers/temp-store.js';

const MAIN = resolve(import.meta.dirname, '../../dist/main.js');
const dir = mkdtempSync(join(tmpdir(), 'vms-agent-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
const otherKeyFile = join(dir, 'other-key.pem');
let cert: Buffer;
let app: ApiInstance;
let store: SqliteStore;
let token = '';
let port = 0;

/** A self-signed certificate for 127.0.0.1 and localhost (P-256), valid for a day. */
function makeCertificate(): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=vms-agent test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', otherKeyFile], { stdio: 'ignore' });
}

function get(options: RequestOptions & { path: string }): Promise<{ status: number; body: string; protocol: string | null }> {
  return new Promise((resolveGet, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, method: 'GET', timeout: 10_000, agent: false, ...options }, (res) => {
      const protocol = (res.socket as TLSSocket).getProtocol();
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body, protocol }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

beforeAll(async () => {
  makeCertificate();
  const tls = loadTlsFiles(certFile, keyFile);
  cert = tls.cert;
  store = new SqliteStore({ path: join(dir, 'vms.db'), secrets: new SecretBox(rng(32), rng) });
  await store.addPrincipal({ name: 'vic', publicKey: 'ed25519:x', roles: ['viewer'] }, 1);
  token = newToken(rng);
  await store.addToken({ hash: hashToken(token), principal: 'vic', label: 'tls test' }, 1);
  app = await buildApp({ store, commands: new CommandService({ store, clock: Date.now, randomBytes: rng }), metrics: new ServiceMetrics(), clock: Date.now, https: { cert: tls.cert, key: tls.key } });
  port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
});
afterAll(async () => {
  try {
    await app?.close();
    await store?.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('buildApp with https', () => {
  it('answers a client that trusts the certificate, over TLS 1.2 or newer', async () => {
    const health = await get({ path: '/healthz', ca: cert });
    expect(health.status).toBe(200);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(health.protocol);
    const hosts = await get({ path: '/v1/hosts', ca: cert, headers: { authorization: `Bearer ${token}` } });
    expect(hosts.status).toBe(200);
    expect(JSON.parse(hosts.body)).toEqual({ hosts: [] });
    expect((await get({ path: '/v1/hosts', ca: cert, servername: 'localhost' })).status).toBe(401);
  });

  it('is refused by a client that does not trust it, and refuses TLS 1.1 and plain HTTP', async () => {
    await expect(get({ path: '/healthz' })).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    await expect(get({ path: '/healthz', ca: cert, maxVersion: 'TLSv1.1', minVersion: 'TLSv1.1' })).rejects.toThrow();
    const plain = await new Promise<string>((resolvePlain) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', timeout: 5000 }, (res) => resolvePlain(`HTTP ${res.statusCode}`));
      req.on('error', (err) => resolvePlain(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
    expect(plain).not.toBe('HTTP 200');
  });

  it('loadTlsFiles names what is wrong; plain HTTP is only called safe on loopback', () => {
    expect(() => loadTlsFiles(certFile, otherKeyFile)).toThrow(/cannot be used together/);
    expect(() => loadTlsFiles(join(dir, 'missing.pem'), keyFile)).toThrow(/cannot read the TLS certificate/);
    expect(loadTlsFiles(certFile, keyFile).keyModeWarning).toBeUndefined(); // openssl writes keys 0600
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '::', '10.0.0.5', 'mgmt.example'].map(isLoopbackHost)).toEqual([false, false, false, false]);
  });
});

// Each step starts a node process: generous timeouts for a loaded machine.
describe('vms-agent serve --tls-cert --tls-key (built dist/main.js), with the CLI as client', { timeout: 180_000 }, () => {
  it('serves HTTPS; the CLI reaches it when it trusts the certificate (NODE_EXTRA_CA_CERTS), not otherwise', async () => {
    const mk = join(dir, 'master.key');
    writeFileSync(mk, formatMasterKey(rng(32)), { mode: 0o600 });
    const common = ['--db', join(dir, 'serve.db'), '--master-key-file', mk];
    execFileSync(process.execPath, [MAIN, 'principals', 'add', 'vic', '--custodial', '--roles', 'viewer', ...common]);
    const t = JSON.parse(execFileSync(process.execPath, [MAIN, 'tokens', 'create', 'vic', '--json', ...common], { encoding: 'utf8' })).token as string;
    const serve = await ManagedProcess.start({
      name: 'vms-agent serve (tls)',
      command: process.execPath,
      args: [MAIN, 'serve', '--listen', '127.0.0.1:0', '--no-links', '--tls-cert', certFile, '--tls-key', keyFile, ...common],
      readyWhen: /"address":"https:\/\/127\.0\.0\.1:\d+"/,
      readyTimeoutMs: 120_000,
    });
    try {
      const url = /"address":"(https:\/\/127\.0\.0\.1:\d+)"/.exec(serve.output)![1]!;
      expect(serve.output).toContain('"tls":true');
      const cli = (env: NodeJS.ProcessEnv) => {
        try {
          return { code: 0, out: execFileSync(process.execPath, [MAIN, 'alerts', 'list', '--url', url, '--token', t], { encoding: 'utf8', env: { ...process.env, ...env }, stdio: 'pipe' }) };
        } catch (err) {
          return { code: (err as { status: number }).status, out: String((err as { stderr: unknown }).stderr) };
        }
      };
      expect(cli({ NODE_EXTRA_CA_CERTS: certFile })).toEqual({ code: 0, out: 'no alerts\n' });
      const untrusted = cli({});
      expect(untrusted.code).toBe(5);
      expect(untrusted.out).toMatch(/self-signed certificate|SELF_SIGNED/);
    } finally {
      await serve.stop();
    }
  });

  it('refuses to start with half a TLS configuration or a key that does not match', () => {
    const run = (args: string[]) => {
      try {
        execFileSync(process.execPath, [MAIN, 'serve', '--listen', '127.0.0.1:0', '--no-links', '--db', join(dir, 'x.db'), ...args], { stdio: 'pipe', encoding: 'utf8' });
        return { code: 0, err: '' };
      } catch (err) {
        return { code: (err as { status: number }).status, err: String((err as { stderr: unknown }).stderr) };
      }
    };
    expect(run(['--tls-cert', certFile])).toMatchObject({ code: 2, err: expect.stringContaining('needs both --tls-cert FILE and --tls-key FILE') });
    expect(run(['--tls-cert', certFile, '--tls-key', otherKeyFile])).toMatchObject({ code: 2, err: expect.stringContaining('cannot be used together') });
  });
});
