/**
 * Plugs the queue engine into the daemon's command table (NetFn 0x2E, keyed
 * by the configured IANA). The registry strips the IANA before the handler
 * and puts it back in the response; the engine's `execute` works on exactly
 * those bytes. Side and privilege rules live in the engine (PROTOCOL.md §2),
 * so the commands answer on both channels and the engine returns 0xD4.
 */
import { OemCommand } from '@backchannel/proto';
import type { CommandSpec } from '../commands/command-types.js';
import { Privilege } from '../commands/privilege.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { QueueEngine } from './queue-engine.js';

const NAMES: Record<number, string> = {
  [OemCommand.GetQueueInfo]: 'oem-get-queue-info',
  [OemCommand.PutRecord]: 'oem-put-record',
  [OemCommand.GetRecord]: 'oem-get-record',
  [OemCommand.ResetQueue]: 'oem-reset-queue',
  [OemCommand.ClaimProducerGeneration]: 'oem-claim-producer-generation',
};

/** The queue commands (0x00–0x04) as command-table entries. */
export function queueCommandHandlers(engine: QueueEngine): CommandSpec[] {
  return Object.entries(NAMES).map(([cmdText, name]) => {
    const cmd = Number(cmdText);
    return {
      name,
      netfn: 0x2e,
      cmd,
      iana: engine.iana,
      // Every LAN rule needs at least OPERATOR (Reset needs ADMIN; the engine checks that and the side).
      privilege: Privilege.Operator,
      channel: 'both',
      // The session names who claimed which producer generation (docs/bmc-queues.md "Producer generation").
      handler: (ctx, data) => engine.execute(cmd, ctx.channel, ctx.privilege, data, ctx.session ? `${ctx.session.id}:${ctx.session.handle}` : undefined),
    } satisfies CommandSpec;
  });
}

export function registerQueueCommands(registry: CommandRegistry, engine: QueueEngine): void {
  for (const spec of queueCommandHandlers(engine)) registry.register(spec);
}
