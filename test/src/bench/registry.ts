/** Every benchmark `npm run bench` knows, in the order it runs them. */
import { envelopeBench } from './envelope-bench.js';
import type { Benchmark } from './metric.js';

export const BENCHMARKS: Benchmark[] = [envelopeBench];
