/**
 * The listening end of the replicas' notifications: one dedicated
 * PostgreSQL connection (LISTEN) per replica that hears, from any replica,
 * which host got something new in its outbox (WAKE_CHANNEL), that link
 * leases were released (LEASES_CHANNEL), and what step 5 adds (link
 * health, command changes). postgres-apply.ts and postgres-leases.ts name
 * the channels; the writers NOTIFY inside their transactions, so a
 * notification arrives only after the change is committed.
 */
import pg from 'pg';
import { WAKE_CHANNEL } from './postgres-apply.js';

export interface WakeListenerOptions {
  onError?: (err: Error) => void;
  /** Called after the connection was opened again: notifications sent meanwhile were lost, so re-read what matters. */
  onReconnect?: () => void;
  retryMs?: number;
}

export type NotificationHandlers = Record<string, (payload: string) => void>;

/**
 * Calls `handlers[channel](payload)` for every notification on those
 * channels. If the connection fails it is opened again after `retryMs`;
 * meanwhile links still find new messages on their next poll and leases
 * move at the next heartbeat.
 */
export async function listenForNotifications(config: pg.ClientConfig, handlers: NotificationHandlers, options: WakeListenerOptions = {}): Promise<{ close(): Promise<void> }> {
  let client: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let connections = 0;
  const channels = Object.keys(handlers);
  for (const ch of channels) if (!/^[a-z_]+$/.test(ch)) throw new RangeError(`not a channel name: ${ch}`);
  const connect = async (): Promise<void> => {
    // No query_timeout on this connection: it waits for notifications, not for answers.
    const c = new pg.Client({ ...config, query_timeout: undefined });
    c.on('notification', (n) => {
      const handler = handlers[n.channel];
      if (handler) handler(n.payload ?? '');
    });
    c.on('error', (err) => {
      options.onError?.(err);
      if (client === c) client = undefined;
      void c.end().catch(() => undefined);
      if (!stopped) timer = setTimeout(() => void connect().catch((e: Error) => options.onError?.(e)), options.retryMs ?? 2_000);
    });
    await c.connect();
    for (const ch of channels) await c.query(`LISTEN ${ch}`);
    if (stopped) {
      await c.end();
      return;
    }
    client = c;
    if (connections++ > 0) options.onReconnect?.();
  };
  await connect();
  return {
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}

/** Calls `onWake(hostId)` for every wake notification (see listenForNotifications). */
export async function listenForWakes(config: pg.ClientConfig, onWake: (hostId: string) => void, options: WakeListenerOptions = {}): Promise<{ close(): Promise<void> }> {
  return listenForNotifications(config, { [WAKE_CHANNEL]: (p) => p && onWake(p) }, options);
}
