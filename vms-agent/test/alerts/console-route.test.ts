/** The console's server side: GET /v1/me, and the static files at /console/ (public, strict CSP, never a directory outside the build). */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { apiFixture } from '../helpers/api-fixture.js';

type Fixture = Awaited<ReturnType<typeof apiFixture>>;
let f: Fixture;
let app: Awaited<ReturnType<typeof buildApp>>;
const dir = mkdtempSync(join(tmpdir(), 'console-dist-'));

beforeAll(async () => {
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'export {};');
  writeFileSync(join(dir, '..', 'secret.txt'), 'not for the web');
  f = await apiFixture();
  app = await buildApp({ store: f.store, commands: f.commands, metrics: f.metrics, clock: f.clock.now, consoleDir: dir });
});

afterAll(async () => {
  await app.close();
  await f.close();
});

describe('console routes', () => {
  it('GET /v1/me names the principal and its roles, and needs a token', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: f.as('vic') })).json()).toEqual({ principal: 'vic', roles: ['viewer'] });
    expect((await app.inject({ method: 'GET', url: '/v1/me' })).statusCode).toBe(401);
  });

  it('serves the built console without a token, with a strict CSP; index.html for routes', async () => {
    const index = await app.inject({ method: 'GET', url: '/console/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(index.headers['cache-control']).toBe('no-store');
    const js = await app.inject({ method: 'GET', url: '/console/assets/index-abc.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect((await app.inject({ method: 'GET', url: '/console' })).headers.location).toBe('/console/');
    expect((await app.inject({ method: 'GET', url: '/console/fleet' })).body).toContain('<title>console</title>');
    expect((await app.inject({ method: 'GET', url: '/console/assets/nope.js' })).statusCode).toBe(404);
    for (const url of ['/console/../secret.txt', '/console/%2e%2e/secret.txt', '/console/..%2fsecret.txt']) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.body, url).not.toContain('not for the web');
    }
  });
});
