/**
 * The fencing hook of a host link driven under a lease (docs/bmc-queues.md
 * "Producer generation"): wraps the BmcConnector so that every session
 * first claims the lease's generation at the BMC (OEM 0x04), before the
 * link sends anything else. If the BMC answers 0x81 (a newer generation
 * was claimed: another replica took the host over), to the claim or to
 * any later request, the link is fenced for good: `onFenced` is told (the
 * link manager stops the link at once), the session is closed, and no
 * further request or connection goes out through this connector.
 *
 * It wraps the connector rather than changing HostLink, so the link's own
 * loop (link/host-link.ts) stays as it is: it just sees a failed request.
 */
import { decodeGenerationResponse, encodeClaimGenerationRequest, OEM_NETFN, OemCommand, OemCompletion } from '@backchannel/proto';
import type { BmcConnector, BmcSession } from './bmc-session.js';

export class FencedError extends Error {
  readonly code = 'FENCED';
  constructor(
    hostId: string,
    generation: number,
    /** The generation the BMC holds, when its answer said. */
    readonly current: number | undefined,
  ) {
    super(
      `the BMC of ${hostId} refused this replica's producer generation ${generation}${current !== undefined ? ` (it has ${current})` : ''}: another replica holds the link now; this link stops`,
    );
    this.name = 'FencedError';
  }
}

export interface FencingOptions {
  hostId: string;
  iana: number;
  /** The lease generation this link runs under. */
  generation: number;
  /** Called once, when the BMC first refuses this generation. */
  onFenced: (err: FencedError) => void;
  /** Called once if the BMC does not know the claim command (0xC1): the link runs without BMC fencing. */
  onUnsupported?: () => void;
}

export function fencedConnector(connector: BmcConnector, o: FencingOptions): BmcConnector {
  let fenced: FencedError | undefined;
  let warned = false;
  const fence = (current: number | undefined): FencedError => {
    if (!fenced) {
      fenced = new FencedError(o.hostId, o.generation, current);
      o.onFenced(fenced);
    }
    return fenced;
  };
  const currentOf = (data: Uint8Array): number | undefined => {
    try {
      return decodeGenerationResponse(data).currentGeneration;
    } catch {
      return undefined;
    }
  };
  return async (target) => {
    if (fenced) throw fenced;
    const session = await connector(target);
    let claimed: { cc: number; data: Uint8Array };
    try {
      if (o.generation > 0xffffffff) throw new RangeError(`lease generation ${o.generation} does not fit the BMC's u32`);
      claimed = await session.request(OEM_NETFN, OemCommand.ClaimProducerGeneration, encodeClaimGenerationRequest({ iana: o.iana, generation: o.generation }));
    } catch (err) {
      await session.close().catch(() => undefined);
      throw err;
    }
    if (claimed.cc === OemCompletion.Fenced) {
      await session.close().catch(() => undefined);
      throw fence(currentOf(claimed.data));
    }
    if (claimed.cc === OemCompletion.InvalidCommand) {
      // A BMC from before the command: only the lease keeper's own clock fences this link.
      if (!warned) o.onUnsupported?.();
      warned = true;
    } else if (claimed.cc !== OemCompletion.Ok) {
      await session.close().catch(() => undefined);
      throw new Error(`Claim Producer Generation ${o.generation} failed with completion code 0x${claimed.cc.toString(16).padStart(2, '0')}`);
    }
    const wrapped: BmcSession = {
      request: async (netfn, cmd, data) => {
        if (fenced) throw fenced;
        const r = await session.request(netfn, cmd, data);
        if (netfn === OEM_NETFN && r.cc === OemCompletion.Fenced) throw fence(currentOf(r.data));
        return r;
      },
      close: () => session.close(),
    };
    return wrapped;
  };
}
