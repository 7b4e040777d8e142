/** Every benchmark `npm run bench` knows, in the order it runs them. */
import { bmcOemQueueBench } from './bmc-oem-queue-bench.js';
import { bmcOemSessionsBench } from './bmc-oem-sessions-bench.js';
import { e2eLatencyBench } from './e2e-latency-bench.js';
import { envelopeBench } from './envelope-bench.js';
import { fleetBench } from './fleet-bench.js';
import { goodputBench } from './goodput-bench.js';
import { linkCostBench } from './link-cost-bench.js';
import { lossyLinkBench } from './lossy-link-bench.js';
import { realLibvirtBench } from './real-libvirt-bench.js';
import type { Benchmark } from './metric.js';
import { replicaBench } from './replica-bench.js';
import { rmcpClientBench } from './rmcp-client-bench.js';
import { solBench } from './sol-bench.js';

export const BENCHMARKS: Benchmark[] = [envelopeBench, rmcpClientBench, bmcOemQueueBench, bmcOemSessionsBench, e2eLatencyBench, linkCostBench, lossyLinkBench, goodputBench, solBench, fleetBench, realLibvirtBench, replicaBench];
