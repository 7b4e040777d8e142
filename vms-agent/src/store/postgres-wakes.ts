/**
 * The listening end of the wake channel: a dedicated PostgreSQL connection
 * (LISTEN) that hears which host got something new in its outbox, from any
 * replica (postgres-apply.ts names the channel; PostgresStore.apply NOTIFYs it).
 */
import pg from 'pg';
import { WAKE_CHANNEL } from './postgres-apply.js';

export interface WakeListenerOptions {
  onError?: (err: Error) => void;
  retryMs?: number;
}

/**
 * Calls `onWake(hostId)` for every notification. If the connection fails it
 * is opened again after `retryMs`; meanwhile links still find new messages
 * on their next poll.
 */
export async function listenForWakes(config: pg.ClientConfig, onWake: (hostId: string) => void, options: WakeListenerOptions = {}): Promise<{ close(): Promise<void> }> {
  let client: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new pg.Client(config);
    c.on('notification', (n) => {
      if (n.channel === WAKE_CHANNEL && n.payload) onWake(n.payload);
    });
    c.on('error', (err) => {
      options.onError?.(err);
      if (client === c) client = undefined;
      void c.end().catch(() => undefined);
      if (!stopped) timer = setTimeout(() => void connect().catch((e: Error) => options.onError?.(e)), options.retryMs ?? 2_000);
    });
    await c.connect();
    await c.query(`LISTEN ${WAKE_CHANNEL}`);
    if (stopped) await c.end();
    else client = c;
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
