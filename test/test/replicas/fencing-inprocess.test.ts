/**
 * Fencing end to end in one process: vms-agent's fenced connector and OEM
 * queue client against bmc-oem's real queue engine (each session a
 * distinct LAN session id, as the RMCP+ server gives them). The old
 * owner's Put is refused from the moment the new owner's claim is
 * answered; the old link learns it at once and sends nothing more.
 */
import { describe, expect, it } from 'vitest';
import { QueueEngine } from '@backchannel/bmc-oem';
import { OemCompletion, OemQueueClient } from '@backchannel/proto';
import { type BmcConnector, fencedConnector } from '@backchannel/vms-agent';

const IANA = 32473;
let counter = 0;
const rng = (n: number) => {
  const out = new Uint8Array(n);
  new DataView(out.buffer).setUint32(0, ++counter, true);
  return out;
};

/** Sessions straight into the engine, as an operator on the LAN; counts what reaches it. */
function bmc(engine: QueueEngine): { connector: BmcConnector; sent: Map<string, number> } {
  let next = 0;
  const sent = new Map<string, number>();
  const connector: BmcConnector = async () => {
    const id = `s${++next}`;
    return {
      request: async (netfn, cmd, data) => {
        sent.set(id, (sent.get(id) ?? 0) + 1);
        const r = engine.execute(cmd, 'lan', 3, data.subarray(3), id);
        return { cc: r.cc, data: Uint8Array.from([0xd9, 0x7e, 0x00, ...r.data]) };
      },
      close: async () => undefined,
    };
  };
  return { connector, sent };
}

describe('producer generation fencing (vms-agent connector + bmc-oem engine, in-process)', () => {
  it('a new owner claiming a newer generation fences the old owner at once; its Puts change nothing and it sends nothing more', async () => {
    const engine = new QueueEngine({ iana: IANA, randomBytes: rng });
    const { connector, sent } = bmc(engine);
    const fenced: string[] = [];
    const oldConn = fencedConnector(connector, { hostId: 'hv-01', iana: IANA, generation: 1, onFenced: (e) => fenced.push(`old: ${e.message}`) });
    const newConn = fencedConnector(connector, { hostId: 'hv-01', iana: IANA, generation: 2, onFenced: (e) => fenced.push(`new: ${e.message}`) });
    const target = { host: '127.0.0.1', port: 1, user: 'u', password: 'p', privilege: 'operator' as const, cipherSuites: [17] };
    const oldQ = new OemQueueClient(await oldConn(target), IANA);
    expect(await oldQ.put(1, 1, Uint8Array.of(1))).toEqual({ kind: 'ok', lastPutSeq: 1 });
    const newQ = new OemQueueClient(await newConn(target), IANA);
    // From here on the old owner is refused, whatever it sends.
    await expect(oldQ.put(1, 2, Uint8Array.of(2))).rejects.toMatchObject({ code: 'FENCED' });
    expect(fenced).toEqual([expect.stringMatching(/^old: .*generation 1 \(it has 2\)/)]);
    const before = sent.get('s1');
    await expect(oldQ.put(1, 2, Uint8Array.of(2))).rejects.toMatchObject({ code: 'FENCED' });
    await expect(oldConn(target)).rejects.toMatchObject({ code: 'FENCED' }); // no reconnect either
    expect(sent.get('s1')).toBe(before); // the refused link sent nothing more
    expect(engine.stats.fencedPuts).toBe(1);
    expect(await newQ.put(1, 2, Uint8Array.of(22))).toEqual({ kind: 'ok', lastPutSeq: 2 });
    expect(engine.snapshot(1)?.lastPutSeq).toBe(2);
    // A replica reconnecting with an overtaken generation is refused at the claim and never Puts.
    const stale = fencedConnector(connector, { hostId: 'hv-01', iana: IANA, generation: 1, onFenced: (e) => fenced.push(`stale: ${e.message}`) });
    await expect(stale(target)).rejects.toMatchObject({ code: 'FENCED' });
    expect(engine.stats.staleClaims).toBe(1);
    expect(engine.snapshot(1)?.lastPutSeq).toBe(2);
    expect(OemCompletion.Fenced).toBe(0x81);
  });
  it("a refused claim tells the generation the BMC holds, so a lease holder can move past a remembered one (host re-added: its lease restarts at 1)", async () => {
    const engine = new QueueEngine({ iana: IANA, randomBytes: rng });
    const { connector } = bmc(engine);
    const target = { host: '127.0.0.1', port: 1, user: 'u', password: 'p', privilege: 'operator' as const, cipherSuites: [17] };
    await fencedConnector(connector, { hostId: 'hv-01', iana: IANA, generation: 5, onFenced: () => undefined })(target);
    const refusals: (number | undefined)[] = [];
    const again = fencedConnector(connector, { hostId: 'hv-01', iana: IANA, generation: 1, onFenced: (e) => refusals.push(e.current) });
    await expect(again(target)).rejects.toMatchObject({ code: 'FENCED', current: 5 });
    expect(refusals).toEqual([5]);
    // LinkManager raises the lease it still holds to current + 1 (store/link-leases.ts raiseGeneration): that claim is taken.
    const raised = fencedConnector(connector, { hostId: 'hv-01', iana: IANA, generation: 6, onFenced: () => refusals.push(-1) });
    expect(await new OemQueueClient(await raised(target), IANA).put(1, 1, Uint8Array.of(1))).toEqual({ kind: 'ok', lastPutSeq: 1 });
    expect(refusals).toEqual([5]);
  });
});
