/**
 * Cold Reset and Warm Reset (App NetFn, IPMI v2.0 §20.2-20.3), for
 * administrators. The answer goes out first; the daemon then restarts its
 * service (daemon/daemon.ts says what each kind keeps).
 */
import { CompletionCode } from './completion-codes.js';
import type { CommandContext } from './command-types.js';
import { NETFN_APP } from './device-commands.js';
import { Privilege } from './privilege.js';
import type { CommandRegistry } from './registry.js';

export const ResetCmd = { ColdReset: 0x02, WarmReset: 0x03 } as const;
export type ResetKind = 'cold' | 'warm';

/** Asks for a reset after the current response has been sent. */
export type ResetRequest = (kind: ResetKind, ctx: CommandContext) => void;

export function registerResetCommands(registry: CommandRegistry, requestReset: ResetRequest): void {
  for (const [kind, cmd] of [['cold', ResetCmd.ColdReset], ['warm', ResetCmd.WarmReset]] as const) {
    registry.register({
      name: `${kind}-reset`,
      netfn: NETFN_APP,
      cmd,
      privilege: Privilege.Administrator,
      channel: 'both',
      handler: (ctx, data) => {
        if (data.length !== 0) return { cc: CompletionCode.RequestLengthInvalid };
        requestReset(kind, ctx);
        return { cc: CompletionCode.Ok };
      },
    });
  }
}
