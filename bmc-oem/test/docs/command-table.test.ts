/**
 * docs/bmc-oem.md's command table says what the daemon answers and at which
 * privilege; this keeps it true: every command the running daemon registers
 * has a row with its NetFn/cmd and privilege, and every row names a
 * registered command.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { tempDir } from '../helpers/temp-dir.js';

const DOC = join(fileURLToPath(new URL('.', import.meta.url)), '../../../docs/bmc-oem.md');
const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** IPMI privilege levels (IPMI v2.0 §6.8) as the table writes them. */
const PRIVILEGE_WORD: Record<number, string> = { 1: 'CALLBACK', 2: 'USER', 3: 'OPERATOR', 4: 'ADMINISTRATOR' };

/** Rows of the "### Commands" table: `| NN / CC[, CC…|–CC] | name | privilege | side |`. */
function documentedRows(): { netfn: number; cmds: number[]; privilege: string }[] {
  const text = readFileSync(DOC, 'utf8');
  const section = text.slice(text.indexOf('### Commands'));
  const rows: { netfn: number; cmds: number[]; privilege: string }[] = [];
  for (const line of section.split('\n')) {
    const m = /^\| ([0-9A-F]{2}) \/ ([0-9A-F, –]+) \|(?:[^|\\]|\\.)*\|\s*([^|]*?)\s*\|/.exec(line);
    if (!m) continue;
    const cmds: number[] = [];
    for (const part of (m[2] as string).split(',').map((p) => p.trim())) {
      const [first, last = first] = part.split('–').map((x) => parseInt(x, 16));
      if (first === undefined || last === undefined) continue;
      for (let c = first; c <= last; c++) cmds.push(c);
    }
    rows.push({ netfn: parseInt(m[1] as string, 16), cmds, privilege: m[3] as string });
  }
  return rows;
}

describe('docs/bmc-oem.md command table', () => {
  it('lists every registered command with its privilege, and nothing else', async () => {
    const dir = tempDir('bmc-doc-');
    writeFileSync(join(dir, 'admin.pw'), 'admin-secret\n', { mode: 0o600 });
    const loaded = loadConfig(['--listen', '127.0.0.1:0', '--user', `admin:administrator:${join(dir, 'admin.pw')}`, '--vm-listen', `unix:${join(dir, 'host.sock')}`, '--log-level', 'silent']);
    if (loaded.kind !== 'run') throw new Error('no config');
    const d = await startDaemon({ config: loaded.config, logger: pino({ level: 'silent' }), bootId: 'test-boot' });
    try {
      const rows = documentedRows();
      const missing: string[] = [];
      const wrongPrivilege: string[] = [];
      const registered = new Set<string>();
      if (process.env.BMC_DOC_DUMP) for (const s of d.registry.list()) console.log(`${hex(s.netfn)} / ${hex(s.cmd)} ${s.name} priv=${s.privilege} ch=${s.channel} iana=${s.iana ?? ''}`);
      for (const spec of d.registry.list()) {
        const id = `${hex(spec.netfn)} / ${hex(spec.cmd)}`;
        registered.add(id);
        const row = rows.find((r) => r.netfn === spec.netfn && r.cmds.includes(spec.cmd));
        if (!row) {
          missing.push(`${id} ${spec.name}`);
          continue;
        }
        const word = spec.privilege === undefined ? undefined : PRIVILEGE_WORD[spec.privilege];
        if (word !== undefined && !row.privilege.includes(word) && !row.privilege.includes('before a session')) wrongPrivilege.push(`${id} ${spec.name}: documented "${row.privilege}", registered ${word}`);
      }
      const unregistered = rows.flatMap((r) => r.cmds.map((c) => `${hex(r.netfn)} / ${hex(c)}`)).filter((id) => !registered.has(id));
      expect(missing).toEqual([]);
      expect(wrongPrivilege).toEqual([]);
      expect(unregistered).toEqual([]);
    } finally {
      await d.stop();
    }
  });
});
