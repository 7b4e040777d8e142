/**
 * V8's memory reducer, cut down for this daemon. Some seconds after activity
 * stops the reducer runs full, compacting collections in an isolate to hand
 * its memory back to the OS: up to three in a row, each a mark of the whole
 * heap. It starts early in an isolate's life and after a full collection that
 * follows 10 MB (and 10%) of heap growth since its last run. The agent has one
 * isolate per libvirt thread (each call thread and the event thread is a
 * worker_threads Worker, started as needed) besides the main one, so the
 * first commands after a start were followed by 6–8 such collections of
 * 8–25 ms each, plus their concurrent marking: 150–250 ms of CPU, most of
 * what the agent spent in the 20 s after them (docs/benchmarks.md
 * "link-cost", `--trace-gc`); a call thread started later paid it again.
 *
 * - The libvirt workers get no reducer (`--no-memory-reducer`): their heaps
 *   are small (4–6 MB, koffi and the call code); what a burst grows one by
 *   stays allocated until an ordinary collection shrinks it. V8 reads this
 *   flag when it sets up an isolate's heap, so it must be set before the
 *   first worker starts, and it cannot reach the main isolate (only
 *   `node --no-memory-reducer` does, and NODE_OPTIONS refuses it).
 * - The main isolate's reducer runs one collection, not up to three
 *   (`--memory-reducer-single-gc`, read each time the reducer plans): the
 *   second one took the heap from 11.4 to 11.3 MB.
 *
 * Ordinary collections and the heap limit are unchanged.
 */
import { setFlagsFromString } from 'node:v8';

export function cutMemoryReducer(): void {
  setFlagsFromString('--memory-reducer-single-gc');
  setFlagsFromString('--no-memory-reducer');
}
