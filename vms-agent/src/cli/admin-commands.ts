/**
 * Commands that work on the local store directly (they need the database
 * file and the master key, not an API token): keygen, hosts (principals and
 * tokens are in access-commands.ts). A running `serve` picks up host
 * changes within seconds.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { decodePublicKey, encodePublicKey, encodeSecretKey, generateSigningKeyPair, keyId, SEED_BYTES } from '@backchannel/proto';
import { enrollmentBundle } from '../keys/enrollment.js';
import { serviceKeyPair } from '../keys/service-key.js';
import { formatMasterKey, MASTER_KEY_BYTES } from '../store/secret-box.js';
import { type Store, StoreConflictError } from '../store/store.js';
import { type Parsed, need, parse, required, str } from './args.js';
import { CliError, EXIT, usage } from './cli-error.js';
import { openLocalStore, systemRandom } from './local-store.js';
import { emit, iso, stdoutOut, table } from './output.js';
import { hostIdProblem } from '../names.js';

/** Writes a secret file 0600, refusing to overwrite unless forced. */
export function writeSecretFile(path: string, text: string, force: boolean): void {
  if (existsSync(path) && !force) throw new CliError(EXIT.conflict, 'FILE_EXISTS', `${path} exists; pass --force to overwrite it`);
  writeFileSync(path, text, { mode: 0o600, flag: force ? 'w' : 'wx' });
}

async function withStore<T>(p: Parsed, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openLocalStore(p.config());
  try {
    return await fn(store);
  } catch (err) {
    if (err instanceof StoreConflictError) throw new CliError(EXIT.conflict, 'CONFLICT', err.message);
    throw err;
  } finally {
    await store.close();
  }
}

export async function keygen(argv: string[]): Promise<number> {
  const p = parse(argv, { out: { type: 'string' }, 'master-key': { type: 'boolean' }, force: { type: 'boolean' } });
  const out = stdoutOut(p.json);
  const file = str(p, 'out');
  if (!file) throw usage('keygen needs --out FILE');
  if (p.values['master-key']) {
    writeSecretFile(file, formatMasterKey(systemRandom(MASTER_KEY_BYTES)), p.values.force === true);
    emit(out, { file, kind: 'master-key' }, () => `wrote master key to ${file} (0600); point BACKCHANNEL_MASTER_KEY_FILE or --master-key-file at it`);
    return EXIT.ok;
  }
  const pair = generateSigningKeyPair(systemRandom);
  const pub = encodePublicKey(pair.publicKey);
  writeSecretFile(file, `${encodeSecretKey(pair)}\n`, p.values.force === true);
  // The public half beside it, as ssh-keygen does: what `principals add --public-key-file` and a policy need.
  writeFileSync(`${file}.pub`, `${pub}\n`, { mode: 0o644 });
  emit(out, { file, publicKeyFile: `${file}.pub`, publicKey: pub, keyId: keyId(pair.publicKey) }, () => `wrote Ed25519 secret key to ${file} (0600) and its public key to ${file}.pub\npublic key: ${pub}\nkey id:     ${keyId(pair.publicKey)}`);
  return EXIT.ok;
}

function parseBmc(text: string): { address: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d{1,5}))?$/.exec(text);
  if (!m) throw usage(`--bmc must be ADDRESS[:PORT], got "${text}"`);
  return { address: (m[1] ?? m[2])!, port: m[3] ? Number(m[3]) : 623 };
}

function readPassword(p: Parsed): string {
  const file = str(p, 'password-file');
  // "-": standard input, read from fd 0 (a root shell's `< file` then works for the service user).
  if (file) return readFileSync(file === '-' ? 0 : file, 'utf8').replace(/\r?\n$/, '');
  const env = process.env.BACKCHANNEL_BMC_PASSWORD;
  if (env) return env;
  throw usage('give the BMC password with --password-file FILE or BACKCHANNEL_BMC_PASSWORD (never on the command line)');
}

export async function hosts(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const p = parse(rest, {
    bmc: { type: 'string' },
    user: { type: 'string' },
    'password-file': { type: 'string' },
    privilege: { type: 'string' },
    'cipher-suites': { type: 'string' },
    iana: { type: 'string' },
    'host-key': { type: 'string' },
    'policy-info': { type: 'string' },
    out: { type: 'string' },
    force: { type: 'boolean' },
  });
  const out = stdoutOut(p.json);
  switch (sub) {
    case 'add':
      return withStore(p, async (store) => {
        const id = need(p, 0, 'HOST id');
        const idProblem = hostIdProblem(id);
        if (idProblem) throw usage(`host ids ${idProblem} (docs/security.md "Names")`);
        const bmc = parseBmc(required(p, 'bmc', 'hosts add needs --bmc ADDRESS[:PORT]'));
        const user = str(p, 'user') ?? 'admin';
        const privilege = (str(p, 'privilege') ?? 'operator') as 'operator' | 'administrator';
        if (privilege !== 'operator' && privilege !== 'administrator') throw usage('--privilege is operator or administrator');
        const suites = (str(p, 'cipher-suites') ?? '17,3').split(',').map(Number);
        if (suites.some((s) => !Number.isInteger(s) || s <= 0 || s > 255)) throw usage('--cipher-suites is a comma list like 17,3 (suite 0 is never allowed)');
        const iana = Number(str(p, 'iana') ?? 32473);
        if (!Number.isInteger(iana) || iana < 0 || iana > 0xffffff) throw usage('--iana must fit 3 bytes');
        const hostKey = str(p, 'host-key');
        if (hostKey) decodePublicKey(hostKey);
        await store.addHost(
          { id, bmcAddress: bmc.address, bmcPort: bmc.port, bmcUser: user, bmcPassword: readPassword(p), bmcPrivilege: privilege, cipherSuites: suites, iana, seed: systemRandom(SEED_BYTES), ...(hostKey ? { hostPublicKey: hostKey } : {}), ...(str(p, 'policy-info') ? { policyInfo: str(p, 'policy-info')! } : {}) },
          Date.now(),
        );
        emit(out, { id, added: true }, () => `added host ${id} (BMC ${bmc.address}:${bmc.port}); now: vms-agent hosts enrollment ${id} --out ${id}.enroll.json`);
        return EXIT.ok;
      });
    case 'list':
      return withStore(p, async (store) => {
        const list = await store.listHosts();
        emit(out, list, () =>
          list.length === 0 ? 'no hosts; add one with: vms-agent hosts add HOST --bmc ADDRESS[:PORT] --user USER --password-file FILE' : table(list.map((h) => [h.id, `${h.bmcAddress}:${h.bmcPort}`, h.bmcUser, h.cipherSuites.join(','), h.hostPublicKey ? 'yes' : 'no', iso(h.createdAtMs)]), ['HOST', 'BMC', 'USER', 'SUITES', 'HOST-KEY', 'ADDED']),
        );
        return EXIT.ok;
      });
    case 'remove':
      return withStore(p, async (store) => {
        const id = need(p, 0, 'HOST id');
        if (!(await store.removeHost(id))) throw new CliError(EXIT.notFound, 'HOST_NOT_FOUND', `no host ${id}`);
        emit(out, { id, removed: true }, () => `removed host ${id}`);
        return EXIT.ok;
      });
    case 'set-host-key':
      return withStore(p, async (store) => {
        const id = need(p, 0, 'HOST id');
        const key = need(p, 1, 'host public key (ed25519:...)');
        decodePublicKey(key);
        await store.setHostPublicKey(id, key).catch(() => {
          throw new CliError(EXIT.notFound, 'HOST_NOT_FOUND', `no host ${id}`);
        });
        emit(out, { id, hostPublicKey: key }, () => `alerts from ${id} will be verified with ${key}`);
        return EXIT.ok;
      });
    case 'enrollment':
      return withStore(p, async (store) => {
        const id = need(p, 0, 'HOST id');
        const file = required(p, 'out', 'hosts enrollment needs --out FILE');
        const secrets = await store.getHostSecrets(id);
        if (!secrets) throw new CliError(EXIT.notFound, 'HOST_NOT_FOUND', `no host ${id}`);
        const service = await serviceKeyPair(store, systemRandom);
        writeSecretFile(file, `${JSON.stringify(enrollmentBundle(id, secrets.seed, [service.publicKey]), null, 2)}\n`, p.values.force === true);
        emit(out, { id, file }, () => `wrote enrollment bundle for ${id} to ${file} (0600); on the hypervisor: hypervisor-agent enroll ${file}`);
        return EXIT.ok;
      });
    default:
      throw usage(`hosts ${sub ?? ''}: use add, list, remove, set-host-key or enrollment`);
  }
}
