/** Sinks from their configuration; files they need are read here, so a bad one stops `serve` at start with the sink's name. */
import { hostname } from 'node:os';
import type { AlertSink } from './alert-sink.js';
import type { SinkConfig } from './sink-config.js';
import { SyslogSink } from './syslog-sink.js';
import { WebhookSink } from './webhook-sink.js';

export function openSinks(configs: readonly SinkConfig[], clock: () => number, origin = { hostname: hostname(), procId: String(process.pid) }): AlertSink[] {
  return configs.map((c) => {
    try {
      return c.type === 'syslog' ? new SyslogSink(c, origin) : new WebhookSink(c, clock);
    } catch (err) {
      const msg = (err as Error).message;
      throw new Error(msg.startsWith(`${c.type} sink "${c.name}"`) ? msg : `${c.type} sink "${c.name}": ${msg}`);
    }
  });
}
