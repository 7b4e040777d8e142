/**
 * docs/deploy.md as a list of steps. The guide marks the blocks a reader runs
 * with the fence info `sh deploy:MACHINE` (run there, in document order),
 * `sh deploy:MACHINE:site` (the site's values: the test puts its own in their
 * place, with exactly the same names) and `sh deploy:copy` (`scp FROM TO`
 * lines between machines, or from `release/` on the build machine). In a run
 * block, `systemctl enable --now NAME` (or `start`/`restart`) starts a unit;
 * any other systemctl use is refused, so the guide cannot ask for something
 * the test does not do.
 */
export type MachineName = 'manager' | 'bmc' | 'hypervisor';
const MACHINES: readonly MachineName[] = ['manager', 'bmc', 'hypervisor'];

export type Endpoint = { machine: MachineName; path: string } | { release: string };

export type Step =
  | { kind: 'run'; machine: MachineName; script: string; line: number }
  | { kind: 'service'; machine: MachineName; action: 'start' | 'restart'; unit: string; line: number }
  | { kind: 'copy'; from: Endpoint; to: { machine: MachineName; path: string }; line: number };

export interface Guide {
  /** Variable names of each machine's site block, in order. */
  site: Record<MachineName, string[]>;
  steps: Step[];
}

function machineName(text: string, line: number): MachineName {
  if ((MACHINES as readonly string[]).includes(text)) return text as MachineName;
  throw new Error(`docs/deploy.md:${line}: unknown machine "${text}" (known: ${MACHINES.join(', ')})`);
}

function endpoint(text: string, line: number): Endpoint {
  if (text.startsWith('release/')) return { release: text.slice('release/'.length) };
  const m = /^([a-z]+):(\/\S+)$/.exec(text);
  if (!m) throw new Error(`docs/deploy.md:${line}: "${text}" is neither release/FILE nor MACHINE:/PATH`);
  return { machine: machineName(m[1]!, line), path: m[2]! };
}

/** Splits a run block at its systemctl lines. */
function runSteps(machine: MachineName, body: string[], firstLine: number): Step[] {
  const steps: Step[] = [];
  let chunk: string[] = [];
  let chunkLine = firstLine;
  const flush = () => {
    if (chunk.some((l) => l.trim() && !l.trim().startsWith('#'))) steps.push({ kind: 'run', machine, script: chunk.join('\n'), line: chunkLine });
    chunk = [];
  };
  body.forEach((text, i) => {
    const line = firstLine + i;
    const m = /^systemctl\s+(enable\s+--now|start|restart)\s+([\w@.-]+?)(\.service)?\s*$/.exec(text.trim());
    if (m) {
      flush();
      steps.push({ kind: 'service', machine, action: m[1] === 'restart' ? 'restart' : 'start', unit: m[2]!, line });
      chunkLine = line + 1;
      return;
    }
    if (/\bsystemctl\b/.test(text)) throw new Error(`docs/deploy.md:${line}: "${text.trim()}" is not a systemctl use the deployment test knows (enable --now, start, restart)`);
    if (chunk.length === 0) chunkLine = line;
    chunk.push(text);
  });
  flush();
  return steps;
}

export function parseGuide(markdown: string): Guide {
  const lines = markdown.split('\n');
  const site: Record<MachineName, string[]> = { manager: [], bmc: [], hypervisor: [] };
  const steps: Step[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++;
    if (end >= lines.length) throw new Error(`docs/deploy.md:${i + 1}: unclosed code block`);
    const body = lines.slice(start, end);
    i = end;
    const marker = /^deploy:([a-z]+)(?::(site))?$/.exec(open[2]!.trim());
    if (!marker) continue;
    if (open[1] !== 'sh') throw new Error(`docs/deploy.md:${start}: deploy blocks are sh blocks`);
    const firstLine = start + 1;
    if (marker[1] === 'copy') {
      body.forEach((text, k) => {
        const t = text.trim();
        if (!t || t.startsWith('#')) return;
        const m = /^scp\s+(\S+)\s+(\S+)$/.exec(t);
        if (!m) throw new Error(`docs/deploy.md:${firstLine + k}: a copy block holds "scp FROM TO" lines, got "${t}"`);
        const to = endpoint(m[2]!, firstLine + k);
        if ('release' in to) throw new Error(`docs/deploy.md:${firstLine + k}: cannot copy to the build machine`);
        steps.push({ kind: 'copy', from: endpoint(m[1]!, firstLine + k), to, line: firstLine + k });
      });
      continue;
    }
    const machine = machineName(marker[1]!, start);
    if (marker[2] === 'site') {
      for (const text of body) {
        const m = /^([A-Z_][A-Z0-9_]*)=/.exec(text.trim());
        if (m) site[machine].push(m[1]!);
      }
      continue;
    }
    steps.push(...runSteps(machine, body, firstLine));
  }
  return { site, steps };
}

/** `NAME='value'` lines a run block starts with (values single-quoted for sh). */
export function siteAssignments(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
}
