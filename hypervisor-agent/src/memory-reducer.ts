/**
 * No V8 memory reducer in the libvirt worker isolates. Some seconds after a
 * burst of work V8's memory reducer runs two or three full, compacting
 * collections in an isolate to hand its memory back to the OS. The agent has
 * one isolate per libvirt thread (each call thread and the event thread is a
 * worker_threads Worker), so every command or burst of commands was followed
 * by 4–6 such collections of 8–23 ms each, plus their concurrent marking:
 * about 100 ms of CPU, most of what the idle agent spent in the 20 s after a
 * command (docs/benchmarks.md "link-cost", `--trace-gc`).
 *
 * A worker's heap is small (4–6 MB, what koffi and the call code need); what
 * a burst grows it by stays allocated until an ordinary collection shrinks
 * it. Ordinary collections and the heap limit are unchanged.
 *
 * V8 reads the flag when it sets up an isolate's heap, so it must be set
 * before the first worker starts, and it does not touch the main isolate
 * (whose reducer is fixed at process start; `node --no-memory-reducer` is the
 * only switch for it, and NODE_OPTIONS refuses it).
 */
import { setFlagsFromString } from 'node:v8';

export function noMemoryReducerInWorkers(): void {
  setFlagsFromString('--no-memory-reducer');
}
