/**
 * Syslog transports for alerts: UDP (RFC 5426, one datagram per message),
 * TCP (RFC 6587 octet counting) and TLS (RFC 5425).
 *
 * TCP and TLS open one connection per batch, write the frames, half-close
 * and wait for the server to close its side. A server closes only after it
 * read to the end of the stream, so a clean close is an acknowledgement
 * that every frame was read: a write that merely reached our kernel buffer
 * before the server died (a reset, a timeout) fails the whole batch, which
 * is then retried (at least once, never "sent into the void"). UDP has no
 * acknowledgement at all: a datagram handed to the kernel counts as
 * delivered; use TCP or TLS where loss matters.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AlertRecord } from '../store/store.js';
import { allFailed, type AlertSink, type SinkOutcome } from './alert-sink.js';
import type { SyslogSinkConfig } from './sink-config.js';
import { formatAlertSyslog, octetCountedFrame, type SyslogOrigin } from './syslog-format.js';

interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export class SyslogSink implements AlertSink {
  readonly config: SyslogSinkConfig;
  readonly #origin: SyslogOrigin;
  readonly #tls: TlsMaterial;

  /** Reads the TLS files now: a missing CA is a start-up error, not a retry loop. */
  constructor(config: SyslogSinkConfig, origin: Omit<SyslogOrigin, 'facility'>) {
    this.config = config;
    this.#origin = { ...origin, facility: config.facility };
    this.#tls = {};
    if (config.caFile) this.#tls.ca = readFileSync(config.caFile);
    if (config.certFile) this.#tls.cert = readFileSync(config.certFile);
    if (config.keyFile) this.#tls.key = readFileSync(config.keyFile);
  }

  async deliver(alerts: readonly AlertRecord[]): Promise<SinkOutcome[]> {
    const messages = alerts.map((a) => formatAlertSyslog(a, this.#origin));
    try {
      if (this.config.transport === 'udp') await this.#udp(messages);
      else await this.#stream(messages);
      return alerts.map(() => ({ ok: true }));
    } catch (err) {
      return allFailed(alerts.length, (err as Error).message);
    }
  }

  async #udp(messages: string[]): Promise<void> {
    const socket = createSocket(isIPv6(this.config.host) ? 'udp6' : 'udp4');
    try {
      for (const m of messages) {
        await new Promise<void>((resolve, reject) => socket.send(Buffer.from(m, 'utf8'), this.config.port, this.config.host, (err) => (err ? reject(err) : resolve())));
      }
    } finally {
      socket.close();
    }
  }

  #stream(messages: string[]): Promise<void> {
    const { host, port, timeoutMs } = this.config;
    const what = `syslog ${this.config.transport} ${host}:${port}`;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let socket: Socket;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`${what}: no clean close within ${timeoutMs} ms`)), timeoutMs);
      const send = () => {
        // A connect to a closed local port can succeed onto itself (TCP simultaneous open when the kernel picks that
        // very port as the source): the frames would "arrive" at our own socket and the batch count as delivered.
        if (socket.localPort === socket.remotePort && socket.localAddress === socket.remoteAddress) {
          finish(new Error(`${what}: connected to itself (nothing listens there)`));
          return;
        }
        for (const m of messages) socket.write(octetCountedFrame(m));
        // Half-close: the server reads to the end, then closes its side.
        socket.end();
      };
      if (this.config.transport === 'tls') {
        const name = this.config.serverName ?? host;
        // SNI carries names only (RFC 6066); an address is still checked against the certificate's IP entries.
        socket = tlsConnect({ host, port, ...(isIP(name) ? {} : { servername: name }), ...this.#tls, minVersion: 'TLSv1.2' }, send);
      } else {
        socket = tcpConnect({ host, port }, send);
      }
      socket.on('error', (err) => finish(new Error(`${what}: ${err.message}`)));
      socket.on('data', () => undefined);
      socket.on('end', () => finish());
      socket.on('close', (hadError) => finish(hadError ? new Error(`${what}: connection closed with an error`) : undefined));
    });
  }
}
