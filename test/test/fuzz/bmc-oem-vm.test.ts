/**
 * Fuzzing the running bmc-oem daemon through its VM-protocol listener over
 * TCP (issue 4 "Robustness", issue 7 "Fuzzing"): random bytes, mutated wire
 * frames and mutated payloads re-framed with valid checksums
 * (vm-frame-corpus.ts). bmc-oem/test/system-interface fuzzes the session
 * in process; this goes through the daemon's socket.
 *
 * Pacing: each batch is followed by a terminator (ending any half frame the
 * batch left) and a Get Device ID probe with its own seq; the next batch
 * waits for the probe's answer. Batches are small enough that batch plus
 * probe stay within the 16 requests the daemon handles at once, so inputs
 * reach the command table instead of the "busy" answer. No answer within
 * the bound is a hang; a daemon exit, a closed connection or an
 * error/fatal/uncaught line in its log also fails the run (a closed
 * connection is expected only after a Cold or Warm Reset the fuzz input
 * asked for: the prober reconnects), and the last two
 * batches are saved under test/fuzz-regressions/bmc-oem-vm/.
 */
import { connect, type Socket } from 'node:net';
import {
  AppCommand,
  decodeVmResponsePayload,
  DEFAULT_OEM_IANA,
  encodeVmRequestFrame,
  NetFn,
  VmChar,
  VmFrameDecoder,
} from '@backchannel/proto';
import { openTransport } from '@backchannel/hypervisor-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDaemonAnswers, faultLines, metricSum, scrapeMetrics } from '../../src/bench/bmc-oem-process.js';
import { regressionBatches, saveBatchRegression } from '../../src/fuzz/batch-corpus.js';
import { FUZZ_SCALE, FuzzRandom } from '../../src/fuzz/harness.js';
import { vmFrameCorpus, vmFuzzInput } from '../../src/fuzz/vm-frame-corpus.js';
import { type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';

const TARGET = 'bmc-oem-vm';
const FRAMES = 50_000 * FUZZ_SCALE;
/** Inputs per batch: with the probe, at most 15 requests in one read (the daemon answers 0xC0 beyond 16 in flight). */
const BATCH = 12;
const PROBE_TIMEOUT_MS = 2000;
const CC_BUSY = 0xc0;
/** What bmc-oem logs when a Cold or Warm Reset drops its host connections (daemon.ts). */
const RESET_LINE = /(cold|warm) reset: dropping/;

/** One host connection to the VM listener that sends batches and waits for a probe's answer after each. */
class VmProber {
  readonly #socket: Socket;
  readonly #decoder = new VmFrameDecoder();
  #waiting: { seq: number; resolve: (cc: number | undefined) => void } | undefined;
  #seq = 0;
  closed = false;
  /** Answers to anything but our probes: fuzz inputs that reached the command table. */
  answers = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.#decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        if (e.kind !== 'message') continue;
        try {
          const r = decodeVmResponsePayload(e.payload);
          const w = this.#waiting;
          // A fuzz input may be a Get Device ID with the probe's seq (and, say, extra bytes: 0xC7); only
          // the probe's possible answers (0x00, or 0xC0 when busy) count as the probe's.
          if (w && r.seq === w.seq && r.netfn === NetFn.APP + 1 && r.cmd === AppCommand.GET_DEVICE_ID && (r.cc === 0 || r.cc === CC_BUSY)) w.resolve(r.cc);
          else this.answers++;
        } catch {
          // answers to fuzz inputs are not judged here
        }
      }
    });
    socket.on('close', () => {
      this.closed = true;
      this.#waiting?.resolve(undefined);
    });
    socket.on('error', () => undefined);
  }

  /** Opens a new connection after a reset, retrying while the daemon restarts its listener. */
  static async reconnect(port: number, deadlineMs: number): Promise<VmProber> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        return await VmProber.open(port);
      } catch (err) {
        if (Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  static async open(port: number): Promise<VmProber> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return new VmProber(socket);
  }

  /** Writes the batch, a terminator and a probe; resolves true once the probe is answered (busy answers are retried). */
  async sendBatch(batch: Uint8Array[]): Promise<boolean> {
    this.#socket.write(Buffer.concat([...batch, Uint8Array.of(VmChar.MessageEnd)]));
    for (let attempt = 0; attempt < 6; attempt++) {
      this.#seq = (this.#seq + 1) & 0xff;
      const seq = this.#seq;
      const cc = await new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), PROBE_TIMEOUT_MS);
        this.#waiting = {
          seq,
          resolve: (c) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        this.#socket.write(Buffer.concat([Uint8Array.of(VmChar.MessageEnd), encodeVmRequestFrame({ seq, netfn: NetFn.APP, lun: 0, cmd: AppCommand.GET_DEVICE_ID, data: new Uint8Array(0) })]));
      });
      this.#waiting = undefined;
      if (cc === 0) return true;
      if (this.closed || (cc === undefined && attempt >= 2)) return false;
    }
    return false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.end();
    });
  }
}

describe('fuzz: bmc-oem daemon, VM-protocol listener (TCP)', () => {
  let bmc: BmcOemInstance;
  let vmPort: number;

  beforeAll(async () => {
    bmc = await startBmcOem([{ name: 'check', privilege: 'operator', password: 'check-secret' }], ['--vm-listen', 'tcp:127.0.0.1:0', '--metrics', '127.0.0.1:0']);
    vmPort = Number((await bmc.proc.waitFor(/"vm":\["tcp:127\.0\.0\.1:(\d+)"\]/, 1000))[1]);
  });

  afterAll(async () => {
    await bmc?.stop();
  });

  it(`${FRAMES} random and mutated frames: no exit, no hang, no fault logged; the listener and the LAN side answer afterwards`, async () => {
    const failures: string[] = [];
    const stats = { frames: 0, bytes: 0, replayedBatches: 0, resets: 0 };
    let prober = await VmProber.open(vmPort);
    let answeredBefore = 0; // answers on connections a reset closed
    const answers = (): number => answeredBefore + prober.answers;
    const recent: Uint8Array[][] = [];
    let scanFrom = bmc.proc.output.length;
    let resetScanFrom = scanFrom;
    const fail = (why: string, output: string): false => {
      failures.push(`${why}; batch saved as ${saveBatchRegression(TARGET, recent.flat())}\n${output.slice(-2000)}`);
      return false;
    };
    const send = async (batch: Uint8Array[]): Promise<boolean> => {
      recent.push(batch);
      if (recent.length > 2) recent.shift();
      const answered = await prober.sendBatch(batch);
      // The socket's close can overtake the daemon's log line that explains it.
      for (let i = 0; i < 20 && prober.closed && !RESET_LINE.test(bmc.proc.output.slice(resetScanFrom)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const output = bmc.proc.output;
      const faults = faultLines(output.slice(Math.min(scanFrom, output.length)));
      scanFrom = output.length;
      let why: string | undefined;
      if (bmc.proc.exited) why = `daemon exited (code ${await bmc.proc.waitForExit()})`;
      else if (prober.closed && RESET_LINE.test(output.slice(resetScanFrom))) {
        // A fuzz input was a Cold or Warm Reset (App 0x02/0x03), which the system interface may
        // send: the daemon drops host connections by design. Reconnect and go on; the run
        // checks that the daemon survives it and answers afterwards.
        resetScanFrom = output.length;
        stats.resets++;
        answeredBefore += prober.answers;
        prober = await VmProber.reconnect(vmPort, 5000);
        return faults.length === 0 || fail(`fault logged: ${faults.slice(0, 3).join(' | ')}`, output);
      } else if (prober.closed) why = 'the daemon closed the host connection';
      else if (!answered) why = 'probe not answered (hang)';
      else if (faults.length > 0) why = `fault logged: ${faults.slice(0, 3).join(' | ')}`;
      if (why === undefined) return true;
      return fail(why, output);
    };
    try {
      for (const batch of regressionBatches(TARGET)) {
        stats.replayedBatches++;
        if (!(await send(batch))) break;
      }
      const corpus = vmFrameCorpus(DEFAULT_OEM_IANA);
      const rng = new FuzzRandom(0x5eed);
      while (failures.length === 0 && stats.frames < FRAMES) {
        const batch = Array.from({ length: BATCH }, () => vmFuzzInput(corpus, rng));
        stats.frames += batch.length;
        stats.bytes += batch.reduce((n, f) => n + f.length, 0);
        if (!(await send(batch))) break;
      }
    } finally {
      await prober.close();
    }
    console.log(`bmc-oem VM fuzz: ${JSON.stringify({ ...stats, answered: answers() })}`);
    expect(failures).toEqual([]);
    expect(stats.frames).toBeGreaterThanOrEqual(FRAMES);
    // A good share of the inputs got past framing and checksum to the command table.
    expect(answers()).toBeGreaterThan(FRAMES / 8);

    // The listener takes a new host connection and answers it (hypervisor-agent's own transport).
    const deadline = Date.now() + 5000;
    let deviceId: { cc: number; data: Uint8Array } | undefined;
    while (deviceId === undefined && Date.now() < deadline) {
      const transport = await openTransport(`vm+tcp://127.0.0.1:${vmPort}`, { timeoutMs: 1000 });
      try {
        deviceId = await transport.request(NetFn.APP, AppCommand.GET_DEVICE_ID, new Uint8Array(0));
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // our fuzz connection may not be gone yet
      } finally {
        await transport.close();
      }
    }
    expect(deviceId?.cc).toBe(0);

    const answer = await checkDaemonAnswers({ port: bmc.port, user: 'check', password: 'check-secret', deadlineMs: 5000 });
    expect(answer.deviceIdCc).toBe(0);
    expect(answer.queueInfoCc).toBe(0);
    const metrics = await scrapeMetrics(bmc.metricsPort ?? 0);
    expect(metricSum(metrics, 'bmc_oem_handler_faults_total')).toBe(0);
    expect(bmc.proc.exited).toBe(false);
    expect(faultLines(bmc.proc.output)).toEqual([]);
  }, 60_000 * FUZZ_SCALE);
});
