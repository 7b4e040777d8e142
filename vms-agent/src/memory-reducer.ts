/**
 * V8's memory reducer, cut down for `vms-agent serve`. Some seconds after
 * activity stops the reducer runs full, compacting collections to hand memory
 * back to the OS: up to three in a row, each a mark of the whole heap (about
 * 27 MB live here). It runs after the first commands following a start, and
 * after 10 MB (and 10%) of heap growth since its last run: 100–200 ms of CPU
 * each time, as much as the idle link costs in 40 s (docs/benchmarks.md
 * "link-cost", `--trace-gc`), and the second collection took the heap from
 * 27.0 to 26.9 MB. `--memory-reducer-single-gc` (read each time the reducer plans,
 * so setting it at start-up works) keeps the first collection only. Ordinary
 * collections and the heap limit are unchanged.
 */
import { setFlagsFromString } from 'node:v8';

export function cutMemoryReducer(): void {
  setFlagsFromString('--memory-reducer-single-gc');
}
