/** Human-readable output by default; --json prints the API's JSON for scripts. */
export interface Out {
  json: boolean;
  write(text: string): void;
}

export function stdoutOut(json: boolean): Out {
  return { json, write: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`) };
}

export function emit(out: Out, value: unknown, human: () => string): void {
  out.write(out.json ? JSON.stringify(value, null, 2) : human());
}

export function table(rows: (string | number | null | undefined)[][], header: string[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c == null ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

export function ago(ms: number | null | undefined): string {
  if (ms == null) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

export function iso(ms: number | null | undefined): string {
  return ms == null ? '-' : new Date(ms).toISOString();
}
