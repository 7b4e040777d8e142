/**
 * RFC 5424 syslog messages for alerts, and the octet-counting frame of
 * RFC 6587 §3.4.1 / RFC 5425 §4.3 for TCP and TLS. Pure.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME vms-agent PROCID KIND [backchannel@32473 id="…" host="…" …] BOM summary
 *
 * PRI = facility·8 + severity. The severity is `warning`, or `critical` for
 * an alert whose host signature did not verify (someone forged or altered
 * it). The structured data carries every field of the alert (the names of
 * the API's alert view, shortened to the 32 characters RFC 5424 allows) so
 * a SIEM parses it without reading the free text. 32473 is the enterprise
 * number the project uses for its OEM commands (RFC 5612's documentation
 * number).
 */
import { alertSummary } from './alert-payload.js';
import type { AlertRecord } from '../store/store.js';

export const SD_ID = 'backchannel@32473';

export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

const SEVERITY = { critical: 2, warning: 4 } as const;

/** PRINTUSASCII (33–126), at most `max` characters, or the NILVALUE "-". */
function header(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

/** PARAM-VALUE: UTF-8 with '"', '\' and ']' escaped (RFC 5424 §6.3.3). */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

export interface SyslogOrigin {
  hostname: string;
  procId: string;
  facility: Facility;
}

export function alertStructuredData(a: AlertRecord): string {
  const params: [string, string | number | boolean][] = [
    ['id', a.id],
    ['alertId', a.alertId],
    ['host', a.hostId],
    ['kind', a.kind],
    ['principal', a.principal],
    ['action', a.action],
    ['domain', a.domain],
    ['reason', a.reason],
    ['timeMs', a.timeMs],
    ['requestId', a.requestId],
    ['signature', a.signatureStatus],
    ['receivedAtMs', a.receivedAtMs],
  ];
  return `[${SD_ID}${params.map(([k, v]) => ` ${k}="${escapeParamValue(String(v))}"`).join('')}]`;
}

export function formatAlertSyslog(a: AlertRecord, origin: SyslogOrigin): string {
  const severity = a.signatureStatus === 'bad' ? SEVERITY.critical : SEVERITY.warning;
  const pri = FACILITIES[origin.facility] * 8 + severity;
  const timestamp = new Date(a.receivedAtMs).toISOString();
  // The BOM marks MSG as UTF-8 (RFC 5424 §6.4); principals and reasons may hold any Unicode.
  return `<${pri}>1 ${timestamp} ${header(origin.hostname, 255)} vms-agent ${header(origin.procId, 128)} ${header(a.kind, 32)} ${alertStructuredData(a)} \uFEFF${alertSummary(a)}`;
}

/** Octet counting: "LEN SP MSG", LEN the message's length in bytes. */
export function octetCountedFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
