/**
 * Fuzzing the running bmc-oem daemon through its RMCP+ UDP port (issue 4
 * "Robustness", issue 7 "Fuzzing"): random and mutated datagrams from a
 * corpus of valid ones (rmcp-corpus.ts), a quarter of them mutated requests
 * sealed with a live session's keys so they reach the command table.
 *
 * Pacing: after every batch an ASF presence ping goes out, and the batch
 * after next waits for its pong, so at most two batches are ever queued at
 * the daemon's socket (well under its receive buffer: the kernel drops
 * nothing, checked in /proc/net/udp) and a pong that does not come within
 * the bound is a hang. A daemon exit, a hang, or an error/fatal/uncaught
 * line in its log fails the run and saves the last two batches under
 * test/fuzz-regressions/bmc-oem-udp/, replayed first on every later run.
 * Afterwards the daemon must still serve a full vms-agent session (Get
 * Device ID, OEM Get Queue Info), and its drop counters must have grown.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppCommand, DEFAULT_OEM_IANA, decodeRmcpDatagram, encodeRmcpDatagram, NetFn, Privilege } from '@backchannel/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DriverLogin, type DriverSession, RakpDriver } from '../../src/bench/bmc-oem-rakp-driver.js';
import { checkDaemonAnswers, faultLines, metricSum, scrapeMetrics, udpSocketDrops } from '../../src/bench/bmc-oem-process.js';
import { regressionBatches, saveBatchRegression } from '../../src/fuzz/batch-corpus.js';
import { FUZZ_SCALE, FuzzRandom, mutate } from '../../src/fuzz/harness.js';
import { liveRmcpCorpus, sealedMutation, sessionRequests } from '../../src/fuzz/rmcp-corpus.js';
import { type BmcOemInstance, startBmcOem } from '../../src/interop/ipmitool-bmc-oem.js';

const TARGET = 'bmc-oem-udp';
const DATAGRAMS = 200_000 * FUZZ_SCALE;
/** Datagrams between two pings; two batches of at most 1024 bytes stay far below the 208 KiB default receive buffer. */
const BATCH = 32;
/** A pong later than this (three pings in a row) is a hang. */
const PONG_TIMEOUT_MS = 2000;
/** Handshakes the flood leaves pending expire after this (config), so a real client gets in again soon after. */
const SETUP_TIMEOUT_MS = 2000;

const USERS = [
  { name: 'fuzz', privilege: 'operator', password: 'fuzz-secret' },
  { name: 'sealer', privilege: 'operator', password: 'sealer-secret' },
  { name: 'check', privilege: 'operator', password: 'check-secret' },
] as const;
const login = (name: 'fuzz' | 'sealer'): DriverLogin => ({ user: name, password: `${name}-secret`, privilege: Privilege.OPERATOR, suite: 17 });

/** Sends datagrams from one socket and paces them with ASF pings it matches by RMCP sequence and tag. */
class UdpPacer {
  readonly #socket: Socket;
  readonly #port: number;
  readonly #waiting = new Map<number, () => void>();
  #key = 0;

  private constructor(socket: Socket, port: number) {
    this.#socket = socket;
    this.#port = port;
    socket.on('message', (msg) => {
      try {
        const d = decodeRmcpDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
        if (d.kind === 'asf' && d.message.kind === 'pong') this.#waiting.get((d.sequence << 8) | d.message.messageTag)?.();
      } catch {
        // answers to fuzz inputs: not ours to judge
      }
    });
  }

  static async open(port: number): Promise<UdpPacer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    socket.setRecvBufferSize(1024 * 1024);
    return new UdpPacer(socket, port);
  }

  send(datagram: Uint8Array): void {
    this.#socket.send(datagram, this.#port, '127.0.0.1');
  }

  /** Pings (up to three times) and resolves true on the pong, false if none came: a hang. */
  async barrier(): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      // RMCP sequence 1..254 (0xFF means "no ACK", 0 is the corpus ping's) and any tag: 65,024 keys in rotation.
      this.#key = (this.#key + 1) % (254 * 256);
      const sequence = 1 + (this.#key >> 8);
      const tag = this.#key & 0xff;
      const key = (sequence << 8) | tag;
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.#waiting.delete(key);
          resolve(false);
        }, PONG_TIMEOUT_MS);
        this.#waiting.set(key, () => {
          clearTimeout(timer);
          this.#waiting.delete(key);
          resolve(true);
        });
        this.send(encodeRmcpDatagram({ kind: 'asf', sequence, message: { kind: 'ping', messageTag: tag } }));
      });
      if (ok) return true;
    }
    return false;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

describe('fuzz: bmc-oem daemon, RMCP+ UDP port', () => {
  let bmc: BmcOemInstance;
  let configDir: string;

  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'bmc-oem-fuzz-'));
    const config = join(configDir, 'bmc.json');
    writeFileSync(config, JSON.stringify({ sessions: { setupTimeoutMs: SETUP_TIMEOUT_MS } }));
    bmc = await startBmcOem([...USERS], ['--config', config, '--metrics', '127.0.0.1:0']);
  });

  afterAll(async () => {
    await bmc?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it(`${DATAGRAMS} random and mutated datagrams: no exit, no hang, no fault logged; still serves a session afterwards`, async () => {
    const metricsPort = bmc.metricsPort ?? 0;
    const before = await scrapeMetrics(metricsPort);
    const kernelDropsBefore = udpSocketDrops(bmc.port);
    const driver = await RakpDriver.open('127.0.0.1', bmc.port);
    const pacer = await UdpPacer.open(bmc.port);
    const failures: string[] = [];
    const stats = { sent: 0, fuzzed: 0, sealed: 0, sealerReopened: 0, replayedBatches: 0 };
    try {
      const corpus = await liveRmcpCorpus(driver, login('fuzz'), login('sealer'), DEFAULT_OEM_IANA);
      const requests = sessionRequests(DEFAULT_OEM_IANA);
      let sealer: DriverSession | undefined = corpus.sealer;
      const recent: Uint8Array[][] = [];
      let scanFrom = bmc.proc.output.length;
      let previous: Promise<boolean> | undefined;

      /** Checks the daemon after a barrier; records a failure and saves the recent batches. */
      const judge = async (ok: boolean): Promise<boolean> => {
        const output = bmc.proc.output;
        const faults = faultLines(output.slice(Math.min(scanFrom, output.length)));
        scanFrom = output.length;
        let why: string | undefined;
        if (bmc.proc.exited) why = `daemon exited (code ${await bmc.proc.waitForExit()})`;
        else if (!ok) why = `no pong within ${3 * PONG_TIMEOUT_MS} ms (hang)`;
        else if (faults.length > 0) why = `fault logged: ${faults.slice(0, 3).join(' | ')}`;
        if (why === undefined) return true;
        failures.push(`${why}; batch saved as ${saveBatchRegression(TARGET, recent.flat())}\n${output.slice(-2000)}`);
        return false;
      };

      const sendBatch = async (batch: Uint8Array[]): Promise<boolean> => {
        for (const d of batch) pacer.send(d);
        stats.sent += batch.length;
        recent.push(batch);
        if (recent.length > 2) recent.shift();
        const barrier = pacer.barrier();
        const ok = previous === undefined ? true : await judge(await previous);
        previous = barrier;
        return ok;
      };

      // Saved regressions first: each batch whole, then a barrier.
      for (const batch of regressionBatches(TARGET)) {
        stats.replayedBatches++;
        if (!(await sendBatch(batch))) break;
      }

      const rng = new FuzzRandom(0x5eed);
      let batches = 0;
      while (failures.length === 0 && stats.fuzzed < DATAGRAMS) {
        const batch: Uint8Array[] = [];
        for (let i = 0; i < BATCH; i++) {
          const choice = rng.below(8);
          const base = corpus.entries[rng.below(corpus.entries.length)]?.bytes ?? new Uint8Array(0);
          if (choice < 2) batch.push(rng.bytes(rng.below(base.length + 32)));
          else if (choice < 6 || sealer === undefined) batch.push(mutate(base, rng));
          else {
            batch.push(sealedMutation(driver, sealer, requests, rng));
            stats.sealed++;
          }
        }
        stats.fuzzed += batch.length;
        if (!(await sendBatch(batch))) break;
        // A sealed mutation may have closed the sealer's session (Close Session) or lowered it; reopen it then.
        if (++batches % 256 === 0 && sealer !== undefined) {
          if (previous !== undefined && !(await judge(await previous))) break;
          previous = undefined;
          const alive = await driver.request(sealer, NetFn.APP, AppCommand.GET_DEVICE_ID).then(
            (r) => r.cc === 0,
            () => false,
          );
          if (!alive) {
            sealer = await driver.openSession(login('sealer')).catch(() => undefined);
            stats.sealerReopened++;
          }
        }
      }
      if (failures.length === 0 && previous !== undefined) await judge(await previous);
    } finally {
      await pacer.close();
      await driver.close();
    }
    console.log(`bmc-oem UDP fuzz: ${JSON.stringify(stats)}`);
    expect(failures).toEqual([]);
    expect(stats.fuzzed).toBeGreaterThanOrEqual(DATAGRAMS);
    expect(stats.sealed).toBeGreaterThan(DATAGRAMS / 8);

    // The kernel dropped none of them: the daemon saw every datagram.
    expect(udpSocketDrops(bmc.port)).toBe(kernelDropsBefore);
    const after = await scrapeMetrics(metricsPort);
    const dropped = metricSum(after, 'bmc_oem_datagrams_dropped_total') - metricSum(before, 'bmc_oem_datagrams_dropped_total');
    console.log(`bmc-oem UDP fuzz: ${dropped} datagrams counted as dropped; by reason: ${after.split('\n').filter((l) => l.startsWith('bmc_oem_datagrams_dropped_total{')).join(', ')}`);
    expect(dropped).toBeGreaterThan(DATAGRAMS / 4);
    // The sealed mutations got past the AuthCode check into the command table.
    const answered = metricSum(after, 'bmc_oem_requests_total') - metricSum(before, 'bmc_oem_requests_total');
    console.log(`bmc-oem UDP fuzz: ${answered} requests answered by the command table`);
    expect(answered).toBeGreaterThan(stats.sealed / 4);
    // Nothing was dropped because the server itself failed, and no handler threw.
    expect(metricSum(after, 'bmc_oem_datagrams_dropped_total', 'reason="internal"')).toBe(0);
    expect(metricSum(after, 'bmc_oem_handler_faults_total')).toBe(0);

    const answer = await checkDaemonAnswers({ port: bmc.port, user: 'check', password: 'check-secret', deadlineMs: SETUP_TIMEOUT_MS + 8000 });
    expect(answer.deviceIdCc).toBe(0);
    expect(answer.queueInfoCc).toBe(0);
    expect(bmc.proc.exited).toBe(false);
    expect(faultLines(bmc.proc.output)).toEqual([]);
  }, 60_000 * FUZZ_SCALE);
});
