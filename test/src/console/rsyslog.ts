/**
 * A private rsyslogd (Debian's rsyslog + rsyslog-gnutls) for delivery
 * tests: its own config, pid file and work directory in a temp dir,
 * listening on 127.0.0.1 only, on UDP, TCP and TLS (a test CA made with
 * openssl). Each input writes to its own file what rsyslog parsed out of
 * the RFC 5424 message: PRI, APP-NAME, MSGID, STRUCTURED-DATA and MSG, so
 * the test checks rsyslog's reading of our bytes rather than our own.
 * Runs in the foreground (-n); stopped by its PID.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ManagedProcess } from '../harness/managed-process.js';
import { pollUntil } from '../harness/poll-until.js';
import { freeTcpPort, freeUdpPort } from '../harness/ports.js';

export const RSYSLOGD = '/usr/sbin/rsyslogd';

export interface TestCa {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** A CA and a server certificate for 127.0.0.1 / localhost, signed by it (openssl). */
export function makeTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=backchannel test CA');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('san.ext'));
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}

/** One received message as rsyslog parsed it. */
export interface SyslogLine {
  pri: number;
  appName: string;
  msgId: string;
  structuredData: string;
  msg: string;
  /** The SD-PARAMs of the first SD-ELEMENT, unescaped. */
  params: Record<string, string>;
}

export function parseParams(sd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of sd.matchAll(/ ([^=\s\]"]+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(["\\\]])/g, '$1');
  return out;
}

export class PrivateRsyslog {
  readonly dir: string;
  readonly ca: TestCa;
  udpPort = 0;
  tcpPort = 0;
  tlsPort = 0;
  proc: ManagedProcess | undefined;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, 'work'), { recursive: true });
    this.ca = makeTestCa(join(dir, 'tls'));
  }

  /** Picks free ports (once: a restart keeps them). */
  async reservePorts(): Promise<void> {
    this.udpPort = await freeUdpPort();
    this.tcpPort = await freeTcpPort();
    this.tlsPort = await freeTcpPort();
  }

  file(input: 'udp' | 'tcp' | 'tls'): string {
    return join(this.dir, `${input}.log`);
  }

  #config(): string {
    const d = this.dir;
    const rules = (['udp', 'tcp', 'tls'] as const).map((n) => `ruleset(name="${n}") { action(type="omfile" file="${this.file(n)}" template="parsed") }`).join('\n');
    return `
global(workDirectory="${join(d, 'work')}" maxMessageSize="64k"
  defaultNetstreamDriverCAFile="${this.ca.caFile}" defaultNetstreamDriverCertFile="${this.ca.certFile}" defaultNetstreamDriverKeyFile="${this.ca.keyFile}")
module(load="imudp")
module(load="imtcp" maxSessions="200")
template(name="parsed" type="string" string="%pri%\\t%app-name%\\t%msgid%\\t%structured-data%\\t%msg%\\n")
${rules}
input(type="imudp" address="127.0.0.1" port="${this.udpPort}" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="${this.tcpPort}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${this.tlsPort}" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
`;
  }

  async start(): Promise<void> {
    if (!this.udpPort) await this.reservePorts();
    const conf = join(this.dir, 'rsyslog.conf');
    writeFileSync(conf, this.#config());
    this.proc = await ManagedProcess.start({ name: 'rsyslogd', command: RSYSLOGD, args: ['-n', '-f', conf, '-i', join(this.dir, 'rsyslogd.pid')] });
    const proc = this.proc;
    // Ready once both stream ports accept (UDP has nothing to ask).
    for (const port of [this.tcpPort, this.tlsPort]) {
      await pollUntil(`rsyslogd listening on 127.0.0.1:${port} (output: ${proc.output.slice(-500)})`, 15_000, () => canConnect(port).then((ok) => (ok ? true : undefined)), 100);
    }
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = undefined;
  }

  lines(input: 'udp' | 'tcp' | 'tls'): SyslogLine[] {
    const f = this.file(input);
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => {
        const [pri, appName, msgId, structuredData, ...msg] = l.split('\t');
        return { pri: Number(pri), appName: appName!, msgId: msgId!, structuredData: structuredData!, msg: msg.join('\t'), params: parseParams(structuredData ?? '') };
      });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
