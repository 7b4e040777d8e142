/**
 * The part of a systemd unit the deployment test carries out itself (there is
 * no systemd in these namespaces): who runs ExecStart, with which groups,
 * capabilities and umask, and the directories systemd would create first.
 */
export interface ServiceUnit {
  execStart: string[];
  user: string;
  group: string;
  supplementaryGroups: string[];
  ambientCapabilities: string[];
  umask: string;
  noNewPrivileges: boolean;
  /** Directories systemd creates before ExecStart: path, mode, whether the service user owns it. */
  directories: { path: string; mode: string; owned: boolean; env: string }[];
}

/** Splits an ExecStart line as systemd does for the simple cases the units use (no quotes inside words). */
function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|(\S+)/g)) out.push(m[1] ?? m[2]!);
  return out;
}

export function parseServiceUnit(text: string, name: string): ServiceUnit {
  const service = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      continue;
    }
    if (section !== 'Service') continue;
    const i = line.indexOf('=');
    if (i < 0) throw new Error(`${name}: "${line}" is not KEY=VALUE`);
    const key = line.slice(0, i).trim();
    service.set(key, [...(service.get(key) ?? []), line.slice(i + 1).trim()]);
  }
  const one = (key: string): string | undefined => service.get(key)?.at(-1);
  const exec = one('ExecStart');
  if (!exec) throw new Error(`${name}: no ExecStart`);
  const execStart = words(exec.replace(/^[-@:+!]+/, ''));
  if (!execStart[0]?.startsWith('/')) throw new Error(`${name}: ExecStart must start with an absolute path, got "${exec}"`);
  const user = one('User') ?? 'root';
  const dir = (key: string, base: string, env: string, owned: boolean) =>
    (one(key) ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((d) => ({ path: `${base}/${d}`, mode: one(`${key}Mode`) ?? '0755', owned, env }));
  return {
    execStart,
    user,
    group: one('Group') ?? user,
    supplementaryGroups: (service.get('SupplementaryGroups') ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean),
    ambientCapabilities: (service.get('AmbientCapabilities') ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean),
    umask: one('UMask') ?? '0022',
    noNewPrivileges: one('NoNewPrivileges') === 'yes',
    directories: [
      ...dir('StateDirectory', '/var/lib', 'STATE_DIRECTORY', true),
      ...dir('RuntimeDirectory', '/run', 'RUNTIME_DIRECTORY', true),
      ...dir('ConfigurationDirectory', '/etc', 'CONFIGURATION_DIRECTORY', false),
    ],
  };
}
