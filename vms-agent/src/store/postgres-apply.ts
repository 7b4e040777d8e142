/**
 * One `apply` mutation inside a PostgreSQL transaction (postgres-store.ts
 * owns the transaction). Mirrors SqliteStore's #applyOne statement for
 * statement; where SQLite relies on its single writer, rows are locked
 * instead: the command row before its state is checked, the host row
 * while a message id is taken.
 */
import type pg from 'pg';
import { isFinal, type CommandState } from '../commands/lifecycle.js';
import { type ApplyResult, type Mutation, StoreConflictError, StoreNotFoundError } from './store.js';
import { IdempotencyKeyTakenError } from './idempotency-keys.js';

/** NOTIFY channel: payload is a host id that has something new in its outbox. */
export const WAKE_CHANNEL = 'vms_agent_wake';
/** NOTIFY channel: payload is the id of a command whose state changed (long-polls at every replica wake up). */
export const COMMAND_CHANNEL = 'vms_agent_command';

type Client = Pick<pg.PoolClient, 'query'>;

export async function insertEvent(c: Client, commandId: string, atMs: number, kind: string, state: string, detail: string): Promise<void> {
  await c.query('INSERT INTO command_events (command_id, at_ms, kind, state, detail) VALUES ($1, $2, $3, $4, $5)', [commandId, atMs, kind, state, detail]);
}

async function lockedState(c: Client, id: string): Promise<CommandState> {
  const row = (await c.query<{ state: CommandState }>('SELECT state FROM commands WHERE id = $1 FOR UPDATE', [id])).rows[0];
  if (!row) throw new StoreNotFoundError('COMMAND_NOT_FOUND', `no command ${id}`);
  return row.state;
}

/** Takes the host's next message id; the row lock holds other takers until this transaction ends. */
async function allocate(c: Client, hostId: string): Promise<number> {
  const row = (await c.query<{ id: number }>('UPDATE hosts SET next_message_id = next_message_id + 1 WHERE id = $1 RETURNING next_message_id - 1 AS id', [hostId])).rows[0];
  if (!row) throw new StoreNotFoundError('HOST_NOT_FOUND', `no host ${hostId}`);
  return row.id;
}

export async function applyMutation(c: Client, m: Mutation, result: ApplyResult): Promise<void> {
  switch (m.kind) {
    case 'command.insert': {
      const x = m.command;
      await c.query(
        `INSERT INTO commands (id, host_id, domain, action, params, principal, state, request, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $8)`,
        [x.id, x.hostId, x.domain, x.action, JSON.stringify(x.params), x.principal, x.request, x.createdAtMs],
      );
      await insertEvent(c, x.id, x.createdAtMs, 'queued', 'queued', m.detail);
      return;
    }
    case 'command.transition': {
      const state = await lockedState(c, m.id);
      const expected = Array.isArray(m.from) ? m.from : [m.from];
      if (!expected.includes(state)) throw new StoreConflictError(`command ${m.id} is ${state}, expected ${expected.join(' or ')}`);
      await c.query(
        `UPDATE commands SET state = $1, updated_at_ms = $2, challenge = COALESCE($3, challenge), result = COALESCE($4, result),
           response_sent = COALESCE($5, response_sent) WHERE id = $6`,
        [m.to, m.atMs, m.challenge ?? null, m.result ?? null, m.responseSent ?? null, m.id],
      );
      await insertEvent(c, m.id, m.atMs, m.to === state ? 'update' : isFinal(m.to) ? 'final' : 'transition', m.to, m.detail);
      return;
    }
    case 'command.event': {
      const row = (await c.query<{ state: string }>('SELECT state FROM commands WHERE id = $1', [m.id])).rows[0];
      if (!row) throw new StoreNotFoundError('COMMAND_NOT_FOUND', `no command ${m.id}`);
      await insertEvent(c, m.id, m.atMs, m.event, row.state, m.detail);
      return;
    }
    case 'approval.insert': {
      const a = m.approval;
      try {
        // A savepoint would let the batch go on; SQLite fails the whole batch here, and so does this.
        await c.query('INSERT INTO approvals (command_id, principal, key_id, signature, custodial, at_ms) VALUES ($1, $2, $3, $4, $5, $6)', [
          m.commandId,
          a.principal,
          a.keyId,
          a.signature,
          a.custodial,
          a.atMs,
        ]);
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw new StoreConflictError(`${a.principal} has already approved ${m.commandId}`);
        throw err;
      }
      return;
    }
    case 'idempotency.insert': {
      const r = m.record;
      await c.query('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND created_at_ms < $3', [r.principal, r.key, m.expiredBeforeMs]);
      try {
        await c.query('INSERT INTO idempotency_keys (principal, key, scope, request_hash, command_id, status, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          r.principal,
          r.key,
          r.scope,
          r.requestHash,
          r.commandId,
          r.status,
          r.createdAtMs,
        ]);
      } catch (err) {
        // Two replicas (or two retries) racing with one key: the second waits for the first's commit, then fails here.
        if ((err as { code?: string }).code === '23505') throw new IdempotencyKeyTakenError(r.principal, r.key);
        throw err;
      }
      return;
    }
    case 'message.allocate':
      result.messageIds.push(await allocate(c, m.hostId));
      return;
    case 'outbox.enqueue': {
      const id = await allocate(c, m.hostId);
      await c.query('INSERT INTO outbox (host_id, message_id, body, kind, command_id, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)', [
        m.hostId,
        id,
        m.body,
        m.messageKind,
        m.commandId ?? null,
        m.atMs,
      ]);
      result.messageIds.push(id);
      return;
    }
    case 'outbox.sent':
      await c.query('UPDATE outbox SET last_sent_at_ms = $1, send_count = send_count + 1 WHERE host_id = $2 AND message_id = $3', [m.atMs, m.hostId, m.messageId]);
      return;
    case 'outbox.ack':
      if (m.messageIds.length > 0) await c.query('DELETE FROM outbox WHERE host_id = $1 AND message_id = ANY($2::bigint[])', [m.hostId, m.messageIds]);
      return;
    case 'inbound.window':
      await c.query(
        `INSERT INTO inbound_windows (host_id, highest, cumulative, bitmap, size, updated_at_ms, peer) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (host_id) DO UPDATE SET highest = excluded.highest, cumulative = excluded.cumulative, bitmap = excluded.bitmap,
           size = excluded.size, updated_at_ms = excluded.updated_at_ms, peer = coalesce(excluded.peer, inbound_windows.peer)`,
        [m.hostId, m.window.highest, m.window.cumulative, m.window.bitmap, m.window.size, m.atMs, m.window.peer ? JSON.stringify(m.window.peer) : null],
      );
      return;
    case 'alert.insert': {
      const a = m.alert;
      const r = await c.query(
        `INSERT INTO alerts (alert_id, host_id, kind, principal, action, domain, reason, time_ms, request_id, signature_status, received_at_ms, raw)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (host_id, alert_id) DO NOTHING`,
        [a.alertId, a.hostId, a.kind, a.principal, a.action, a.domain, a.reason, a.timeMs, a.requestId, a.signatureStatus, a.receivedAtMs, a.raw],
      );
      result.alertsInserted += r.rowCount ?? 0;
      return;
    }
    case 'status.upsert': {
      const s = m.status;
      // An older report arriving late (retransmission) never replaces a newer one.
      await c.query(
        `INSERT INTO status_reports AS s (host_id, report, report_seq, time_ms, received_at_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (host_id) DO UPDATE SET report = excluded.report, report_seq = excluded.report_seq, time_ms = excluded.time_ms,
           received_at_ms = excluded.received_at_ms WHERE excluded.time_ms >= s.time_ms`,
        [s.hostId, s.report, s.reportSeq, s.timeMs, s.receivedAtMs],
      );
      return;
    }
    case 'host.epochs':
      if (m.q1Epoch !== undefined) await c.query('UPDATE hosts SET q1_epoch = $1 WHERE id = $2', [m.q1Epoch, m.hostId]);
      if (m.q2Epoch !== undefined) await c.query('UPDATE hosts SET q2_epoch = $1 WHERE id = $2', [m.q2Epoch, m.hostId]);
      return;
  }
}
