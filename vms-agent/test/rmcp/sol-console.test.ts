// SOL console and tunnel against a simulated BMC SOL endpoint and a simulated
// host serial side, on a manual clock: activation and its refusals, data both
// ways, lost SOL packets, noise on the line, "SOL deactivating", session loss.
import {
  decodeSolPacket,
  decodeTunnelMessage,
  encodeActivatePayloadResponse,
  encodeSerialFrame,
  encodeSolPacket,
  encodeTunnelMessage,
  PayloadType,
  SerialFrameDecoder,
  SolEndpoint,
  SolStatus,
  toHex,
  utf8,
} from '@backchannel/proto';
import { describe, expect, it } from 'vitest';
import { SolConsole, type SolSessionPort } from '../../src/rmcp/sol-console.js';
import { SolTunnel } from '../../src/rmcp/sol-tunnel.js';
import { ManualClock, seededRandom } from './simulated-bmc-link.js';

interface SimOptions {
  activateCc?: number[];
  port?: number;
  /** Probability that a SOL packet is lost, each way. */
  loss?: number;
  /** Noise the host line adds before each frame it answers. */
  noise?: Uint8Array;
  seed?: number;
}

/** A BMC's SOL endpoint bridged to a host that answers tunnel requests with cc 0 and the request data reversed. */
function simulatedBmc(clock: ManualClock, o: SimOptions = {}) {
  const rnd = seededRandom(o.seed ?? 1);
  const lost = () => rnd() < (o.loss ?? 0);
  const bmc = new SolEndpoint({ maxData: 60, retryIntervalMs: 100, retryCount: 50 });
  const hostDecoder = new SerialFrameDecoder();
  const hostReceived: number[] = [];
  let handler: ((t: number, p: Uint8Array) => void) | undefined;
  let endSession!: () => void;
  const done = new Promise<void>((r) => (endSession = r));
  const activateCc = [...(o.activateCc ?? [0])];
  const requests: string[] = [];
  const toConsole = (p: ReturnType<SolEndpoint['poll']>[number]) => {
    if (lost()) return;
    const payload = encodeSolPacket(p);
    clock.setTimeout(() => handler?.(PayloadType.SOL, payload), 2);
  };
  const pump = () => {
    for (const p of bmc.poll(clock.now())) toConsole(p);
    const at = bmc.nextDeadline();
    if (at !== undefined) clock.setTimeout(pump, Math.max(1, at - clock.now()));
  };
  const port: SolSessionPort & { deactivating(): void; kill(): void; hostReceived: number[]; requests: string[] } = {
    info: { host: 'sim', port: 623 },
    done,
    hostReceived,
    requests,
    request: async (_netFn, cmd) => {
      requests.push(cmd.toString(16));
      if (cmd === 0x48) {
        const cc = activateCc.length > 1 ? activateCc.shift()! : activateCc[0]!;
        return { cc, data: cc === 0 ? encodeActivatePayloadResponse({ inboundPayloadSize: 64, outboundPayloadSize: 64, port: o.port ?? 623, vlan: 0xffff }) : new Uint8Array() };
      }
      return { cc: 0, data: new Uint8Array() };
    },
    onPayload: (h) => (handler = h),
    sendPayload: (_t, payload) => {
      if (lost()) return;
      const r = bmc.receive(decodeSolPacket(payload), clock.now());
      for (const p of r.send) toConsole(p);
      if (r.data) {
        hostReceived.push(...r.data);
        for (const f of hostDecoder.push(r.data)) {
          const m = decodeTunnelMessage(f);
          if (m.kind !== 'request') continue;
          const answer = encodeSerialFrame(encodeTunnelMessage({ kind: 'response', id: m.id, cc: 0, data: m.data.slice().reverse() }));
          bmc.write(o.noise ?? new Uint8Array());
          bmc.write(answer);
        }
      }
      pump();
    },
    deactivating: () => toConsole({ seq: 0, ackSeq: 0, acceptedCount: 0, flags: SolStatus.SOL_DEACTIVATING, data: new Uint8Array() }),
    kill: () => endSession(),
  };
  return port;
}

describe('SolConsole activation', () => {
  it('activates; refuses with clear errors for in use, disabled, another port', async () => {
    const clock = new ManualClock();
    await expect(SolConsole.activate(simulatedBmc(clock), { clock })).resolves.toBeInstanceOf(SolConsole);
    await expect(SolConsole.activate(simulatedBmc(clock, { activateCc: [0x80] }), { clock })).rejects.toThrow(/active in another session/);
    await expect(SolConsole.activate(simulatedBmc(clock, { activateCc: [0x81] }), { clock })).rejects.toThrow(/disabled/);
    await expect(SolConsole.activate(simulatedBmc(clock, { port: 624 }), { clock })).rejects.toThrow(/port 624/);
  });

  it('takes over a stale activation: deactivate, then activate again', async () => {
    const clock = new ManualClock();
    const bmc = simulatedBmc(clock, { activateCc: [0x80, 0] });
    await SolConsole.activate(bmc, { clock, takeOver: true });
    expect(bmc.requests).toEqual(['48', '49', '48']);
  });
});

describe('SolTunnel over SolConsole (manual clock)', () => {
  async function tunnel(o: SimOptions = {}) {
    const clock = new ManualClock();
    const bmc = simulatedBmc(clock, o);
    const console = await SolConsole.activate(bmc, { clock, retryIntervalMs: 100, retryCount: 50 });
    const t = new SolTunnel(console, { clock, retransmitMs: 300, giveUpMs: 60_000, close: async () => console.deactivate() });
    return { clock, bmc, console, t };
  }

  it('a request crosses the SOL stream in frames and its answer comes back', async () => {
    const { clock, t } = await tunnel();
    const p = t.request(0x2e, 0x01, utf8('hello record'));
    expect(await clock.runUntil(p, 5_000)).toBe(true);
    expect(await p).toEqual({ cc: 0, data: utf8('hello record').reverse() });
  });

  it('large requests are split into SOL packets of the BMC inbound size', async () => {
    const { clock, t, bmc } = await tunnel();
    const big = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    const p = t.request(0x2e, 0x01, big);
    expect(await clock.runUntil(p, 10_000)).toBe(true);
    expect(toHex((await p).data)).toBe(toHex(big.slice().reverse()));
    expect(bmc.hostReceived.length).toBeGreaterThan(300);
  });

  it('with 20% of SOL packets lost each way and noise on the line, every answer arrives, in order', async () => {
    const { clock, t } = await tunnel({ loss: 0.2, noise: utf8('\r\n[  3.1] kernel: noise\r\nlogin: '), seed: 7 });
    for (let i = 0; i < 20; i++) {
      const p = t.request(0x2e, 0x02, utf8(`req ${i}`));
      expect(await clock.runUntil(p, 60_000, 5)).toBe(true);
      expect(new TextDecoder().decode((await p).data)).toBe([...`req ${i}`].reverse().join(''));
    }
    expect(t.stats.noiseDropped).toBeGreaterThan(0);
  });

  it('session loss ends the console; requests fail with a clear error', async () => {
    const { clock, t, bmc } = await tunnel();
    bmc.kill();
    await clock.advance(1);
    await expect(t.request(0x2e, 0x00, utf8('x'))).rejects.toThrow(/session to sim:623 ended/);
  });

  it('unacknowledged SOL packets end the console (the BMC is gone)', async () => {
    const clock = new ManualClock();
    const bmc = simulatedBmc(clock, { loss: 1 });
    const console = await SolConsole.activate(bmc, { clock, retryIntervalMs: 100, retryCount: 3 });
    console.write(utf8('anyone?'));
    await clock.advance(1_000);
    expect(console.ended?.message).toMatch(/unacknowledged/);
  });
});

describe('SOL deactivating status', () => {
  it('ends the console when the BMC says so', async () => {
    const clock = new ManualClock();
    const bmc = simulatedBmc(clock);
    const console = await SolConsole.activate(bmc, { clock });
    let reason = '';
    console.onEnd((r) => (reason = r.message));
    bmc.deactivating();
    await clock.advance(10);
    expect(reason).toMatch(/deactivated SOL/);
  });
});
