#!/usr/bin/env node
/**
 * `npm run bench [-- NAME... ] [--json FILE] [--quick]`
 * Runs the selected benchmarks (all by default; NAME matches by substring),
 * each with its anchor measured in the same run, prints a table, and with
 * --json writes {metrics: [{name, value, unit, anchor, anchorValue, ratio}]}.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Metric } from './metric.js';
import { BENCHMARKS } from './registry.js';

const HELP = `usage: npm run bench -- [NAME...] [--json FILE] [--quick] [--list]
  NAME      run only benchmarks whose name contains NAME (${BENCHMARKS.map((b) => b.name).join(', ')})
  --json    also write the metrics as JSON to FILE
  --quick   shorter runs (smoke test; figures are noisier)
  --list    list the benchmarks and exit`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { json: { type: 'string' }, quick: { type: 'boolean', default: false }, list: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.list) {
    for (const b of BENCHMARKS) console.log(`${b.name.padEnd(20)} ${b.description}`);
    return 0;
  }
  const selected = positionals.length ? BENCHMARKS.filter((b) => positionals.some((p) => b.name.includes(p))) : BENCHMARKS;
  if (selected.length === 0) {
    console.error(`no benchmark matches ${positionals.join(', ')}; --list shows them`);
    return 2;
  }
  const metrics: Metric[] = [];
  for (const bench of selected) {
    console.log(`\n== ${bench.name}: ${bench.description}`);
    const results = await bench.run({ quick: values.quick ?? false });
    for (const m of results) {
      console.log(`  ${m.name}: ${fmt(m.value)} ${m.unit}  | anchor ${m.anchor}: ${fmt(m.anchorValue)}  | ratio ${m.ratio.toFixed(2)}${m.note ? `  (${m.note})` : ''}`);
    }
    metrics.push(...results);
  }
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), metrics }, null, 2)}\n`);
    console.log(`\nwrote ${values.json}`);
  }
  return 0;
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(3);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`bench failed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
