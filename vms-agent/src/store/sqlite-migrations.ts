/**
 * Schema of the SQLite store, as numbered migrations applied in order and
 * recorded in `migrations`. Never edit a released migration; add one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE hosts (
  id               TEXT PRIMARY KEY,
  bmc_address      TEXT NOT NULL,
  bmc_port         INTEGER NOT NULL,
  bmc_user         TEXT NOT NULL,
  bmc_password_enc BLOB NOT NULL,
  bmc_privilege    TEXT NOT NULL,
  cipher_suites    TEXT NOT NULL,
  iana             INTEGER NOT NULL,
  seed_enc         BLOB NOT NULL,
  host_public_key  TEXT,
  policy_info      TEXT,
  q1_epoch         INTEGER NOT NULL DEFAULT 0,
  q2_epoch         INTEGER NOT NULL DEFAULT 0,
  next_message_id  INTEGER NOT NULL DEFAULT 1,
  created_at_ms    INTEGER NOT NULL
);
CREATE TABLE principals (
  name           TEXT PRIMARY KEY,
  public_key     TEXT NOT NULL,
  secret_key_enc BLOB,
  created_at_ms  INTEGER NOT NULL
);
CREATE TABLE tokens (
  hash          TEXT PRIMARY KEY,
  principal     TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  label         TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE commands (
  id            TEXT PRIMARY KEY,
  host_id       TEXT NOT NULL,
  domain        TEXT NOT NULL,
  action        TEXT NOT NULL,
  params        TEXT NOT NULL,
  principal     TEXT NOT NULL,
  state         TEXT NOT NULL,
  request       BLOB NOT NULL,
  challenge     BLOB,
  result        BLOB,
  response_sent INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX commands_by_host_state ON commands(host_id, state);
CREATE TABLE command_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  command_id TEXT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
  at_ms      INTEGER NOT NULL,
  kind       TEXT NOT NULL,
  state      TEXT NOT NULL,
  detail     TEXT NOT NULL
);
CREATE INDEX command_events_by_command ON command_events(command_id, seq);
CREATE TABLE approvals (
  command_id TEXT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
  principal  TEXT NOT NULL,
  key_id     TEXT NOT NULL,
  signature  BLOB NOT NULL,
  custodial  INTEGER NOT NULL,
  at_ms      INTEGER NOT NULL,
  PRIMARY KEY (command_id, principal)
);
CREATE TABLE outbox (
  host_id        TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  message_id     INTEGER NOT NULL,
  body           BLOB NOT NULL,
  kind           TEXT NOT NULL,
  command_id     TEXT,
  created_at_ms  INTEGER NOT NULL,
  last_sent_at_ms INTEGER NOT NULL DEFAULT 0,
  send_count     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, message_id)
);
CREATE TABLE inbound_windows (
  host_id       TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
  highest       INTEGER NOT NULL,
  cumulative    INTEGER NOT NULL,
  bitmap        BLOB NOT NULL,
  size          INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE alerts (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id           TEXT NOT NULL,
  host_id            TEXT NOT NULL,
  kind               TEXT NOT NULL,
  principal          TEXT NOT NULL,
  action             TEXT NOT NULL,
  domain             TEXT NOT NULL,
  reason             TEXT NOT NULL,
  time_ms            INTEGER NOT NULL,
  request_id         TEXT NOT NULL,
  signature_status   TEXT NOT NULL,
  received_at_ms     INTEGER NOT NULL,
  raw                BLOB NOT NULL,
  acknowledged       INTEGER NOT NULL DEFAULT 0,
  acknowledged_by    TEXT,
  acknowledged_at_ms INTEGER,
  UNIQUE (host_id, alert_id)
);
CREATE INDEX alerts_by_time ON alerts(time_ms);
CREATE TABLE status_reports (
  host_id        TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
  report         BLOB NOT NULL,
  report_seq     INTEGER NOT NULL,
  time_ms        INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'roles, token expiry and revocation, alert acknowledgement comments',
    // Principals that existed before roles get DEFAULT_ROLES (src/roles.ts): they keep issuing,
    // approving and reading; acknowledging alerts (security) must be granted by name.
    // A token's id is the first 16 hex digits of its hash (TokenRecord.id).
    sql: `
CREATE TABLE principal_roles (
  principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  role      TEXT NOT NULL CHECK (role IN ('operator', 'approver', 'security', 'viewer')),
  PRIMARY KEY (principal, role)
);
INSERT INTO principal_roles (principal, role)
  SELECT p.name, r.role FROM principals p, (SELECT 'operator' AS role UNION ALL SELECT 'approver' UNION ALL SELECT 'viewer') r;
ALTER TABLE tokens ADD COLUMN id TEXT;
UPDATE tokens SET id = substr(hash, 1, 16);
CREATE UNIQUE INDEX tokens_by_id ON tokens(id);
ALTER TABLE tokens ADD COLUMN expires_at_ms INTEGER;
ALTER TABLE tokens ADD COLUMN revoked_at_ms INTEGER;
ALTER TABLE alerts ADD COLUMN acknowledged_comment TEXT;
`,
  },
  {
    version: 3,
    name: 'alert outbox and per-sink deliveries (docs/alert-delivery.md)',
    // The trigger fills the outbox in the transaction that stores the alert, whatever the
    // insert path (host alerts, manager-side ones): no alert is stored without being queued.
    // A duplicate alert (INSERT OR IGNORE) inserts no row, so the trigger does not fire.
    sql: `
CREATE TABLE alert_outbox (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id      INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  created_at_ms INTEGER NOT NULL
);
CREATE TRIGGER alerts_into_outbox AFTER INSERT ON alerts
BEGIN
  INSERT INTO alert_outbox (alert_id, created_at_ms) VALUES (NEW.id, NEW.received_at_ms);
END;
CREATE TABLE alert_sinks (
  name          TEXT PRIMARY KEY,
  cursor        INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE TABLE alert_deliveries (
  sink               TEXT NOT NULL REFERENCES alert_sinks(name) ON DELETE CASCADE,
  seq                INTEGER NOT NULL REFERENCES alert_outbox(seq) ON DELETE CASCADE,
  state              TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms INTEGER NOT NULL DEFAULT 0,
  claimed_until_ms   INTEGER NOT NULL DEFAULT 0,
  last_error         TEXT,
  updated_at_ms      INTEGER NOT NULL,
  delivered_at_ms    INTEGER,
  PRIMARY KEY (sink, seq)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(state, next_attempt_at_ms);
`,
  },
  {
    version: 4,
    name: 'link: what the channel learned of each host (clock offset, incarnations)',
    // JSON of proto's PeerState, written with the replay window it belongs to. Null: learned nothing yet.
    sql: `
ALTER TABLE inbound_windows ADD COLUMN peer TEXT;
`,
  },
  {
    version: 5,
    name: 'idempotency keys',
    // Versions 3 and 4 belong to the alert outbox and the link columns (other branches); gaps are fine.
    // One row per (principal, key): the command a client's request created or approved, kept for a retention period.
    sql: `
CREATE TABLE idempotency_keys (
  principal     TEXT NOT NULL,
  key           TEXT NOT NULL,
  scope         TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  command_id    TEXT NOT NULL,
  status        INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys(created_at_ms);
`,
  },
];
