/**
 * Docs link only inside the repository (house rule): every Markdown link in
 * README.md and docs/ is a relative path to a file that exists, and an
 * anchor names a heading of the file it points to. Links to the web are
 * refused; name outside material in plain text instead.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const docs = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];

/** The text outside fenced code blocks and inline code spans (links there are examples, not links). */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function links(text: string): string[] {
  return [...prose(text).matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

describe('docs link only inside the repository', () => {
  it.each(docs.map((d) => [relative(ROOT, d), d]))('%s', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const problems: string[] = [];
    for (const target of links(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
        problems.push(`${target}: links outside the repository (name it in plain text)`);
        continue;
      }
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const dest = path === '' ? file : resolve(dirname(file), decodeURI(path));
      if (!dest.startsWith(ROOT)) problems.push(`${target}: outside the repository`);
      else if (!existsSync(dest)) problems.push(`${target}: no such file`);
      else if (anchor !== undefined && dest.endsWith('.md') && statSync(dest).isFile() && !anchors(readFileSync(dest, 'utf8')).has(anchor)) {
        problems.push(`${target}: no heading "#${anchor}" in ${relative(ROOT, dest)}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
