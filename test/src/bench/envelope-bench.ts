/**
 * Envelope seal+open rate versus raw AES-256-GCM on the same plaintext with
 * a fixed key (the anchor): what the per-step key schedule, the protobuf
 * header and the checks cost on top of the cipher. And the protocol
 * efficiency of the record format: payload bytes per byte of queue records.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  Action,
  Direction,
  encodeBody,
  EnvelopeKeys,
  fragmentMessage,
  openEnvelope,
  sealEnvelope,
  type StatusReport,
} from '@backchannel/proto';
import { type Benchmark, metric, opsPerSecond } from './metric.js';

const rng = (n: number) => new Uint8Array(randomBytes(n));

function statusBody(domains: number): { statusReport: StatusReport } {
  return {
    statusReport: {
      hostId: 'hv-bench',
      timeMs: Date.now(),
      agentVersion: '0.1.0',
      libvirtVersion: '9.0.0',
      hypervisor: 'QEMU',
      reportSeq: 1,
      domains: Array.from({ length: domains }, (_, i) => ({
        name: `vm-${i}`,
        uuid: crypto.randomUUID(),
        state: 1,
        vcpus: 2,
        memoryKib: 2_097_152,
        maxMemoryKib: 2_097_152,
        id: i + 1,
      })),
    },
  };
}

export const envelopeBench: Benchmark = {
  name: 'envelope',
  description: 'envelope seal+open vs raw AES-256-GCM; record-format efficiency',
  async run({ quick }) {
    const keys = new EnvelopeKeys(rng(32), 'hv-bench');
    const body = { commandRequest: { requestId: crypto.randomUUID(), principal: 'alice', action: Action.ACTION_SHUTDOWN, domain: 'web-1', issuedAtMs: Date.now(), hostId: 'hv-bench' } };
    const plaintext = encodeBody(body);
    const duration = quick ? 300 : 2000;
    const ours = opsPerSecond(duration, () => {
      const now = Date.now();
      const sealed = sealEnvelope(keys, { direction: Direction.DIRECTION_TO_HOST, messageId: 1, body, nowMs: now, randomBytes: rng });
      openEnvelope(keys, sealed, { direction: Direction.DIRECTION_TO_HOST, nowMs: now });
    });
    const rawKey = rng(32);
    const raw = opsPerSecond(duration, () => {
      const iv = rng(12);
      const c = createCipheriv('aes-256-gcm', rawKey, iv);
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      const d = createDecipheriv('aes-256-gcm', rawKey, iv);
      d.setAuthTag(c.getAuthTag());
      Buffer.concat([d.update(ct), d.final()]);
    });

    // Efficiency: protobuf payload bytes / queue record bytes, for a command and for a 40-domain status report.
    const efficiency = (payload: Uint8Array, sealed: Uint8Array, maxRecord: number) => {
      const records = fragmentMessage(sealed, 1, maxRecord);
      return payload.length / records.reduce((n, r) => n + r.length, 0);
    };
    const status = statusBody(40);
    const sealedStatus = sealEnvelope(keys, { direction: Direction.DIRECTION_TO_MANAGER, messageId: 1, body: status, nowMs: Date.now(), randomBytes: rng });
    const sealedCommand = sealEnvelope(keys, { direction: Direction.DIRECTION_TO_HOST, messageId: 1, body, nowMs: Date.now(), randomBytes: rng });
    return [
      metric('envelope seal+open rate', ours, 'ops/s', 'raw AES-256-GCM encrypt+decrypt, same plaintext', raw),
      metric('record efficiency, 40-domain status report (max_record 200)', efficiency(encodeBody(status), sealedStatus, 200), 'payload/record bytes', 'ideal', 1, 'goal >= 0.75'),
      metric('record efficiency, one command (max_record 200)', efficiency(plaintext, sealedCommand, 200), 'payload/record bytes', 'ideal', 1),
    ];
  },
};
