/**
 * Schema of the PostgreSQL store, as numbered migrations applied in order
 * and recorded in `schema_migrations` (postgres-store.ts applies them in one
 * transaction under an advisory lock, so replicas starting together do not
 * race). Version 1 holds the same tables as the SQLite store's version 1;
 * booleans are BOOLEAN, times in ms and ids that grow are BIGINT. Never edit
 * a released migration; add one.
 */
import type { Migration } from './sqlite-migrations.js';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
CREATE TABLE hosts (
  id               TEXT PRIMARY KEY,
  bmc_address      TEXT NOT NULL,
  bmc_port         INTEGER NOT NULL,
  bmc_user         TEXT NOT NULL,
  bmc_password_enc BYTEA NOT NULL,
  bmc_privilege    TEXT NOT NULL,
  cipher_suites    TEXT NOT NULL,
  iana             INTEGER NOT NULL,
  seed_enc         BYTEA NOT NULL,
  host_public_key  TEXT,
  policy_info      TEXT,
  q1_epoch         BIGINT NOT NULL DEFAULT 0,
  q2_epoch         BIGINT NOT NULL DEFAULT 0,
  next_message_id  BIGINT NOT NULL DEFAULT 1,
  created_at_ms    BIGINT NOT NULL
);
CREATE TABLE principals (
  name           TEXT PRIMARY KEY,
  public_key     TEXT NOT NULL,
  secret_key_enc BYTEA,
  created_at_ms  BIGINT NOT NULL
);
CREATE TABLE tokens (
  hash          TEXT PRIMARY KEY,
  principal     TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  label         TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value BYTEA NOT NULL
);
CREATE TABLE commands (
  id            TEXT PRIMARY KEY,
  host_id       TEXT NOT NULL,
  domain        TEXT NOT NULL,
  action        TEXT NOT NULL,
  params        TEXT NOT NULL,
  principal     TEXT NOT NULL,
  state         TEXT NOT NULL,
  request       BYTEA NOT NULL,
  challenge     BYTEA,
  result        BYTEA,
  response_sent BOOLEAN NOT NULL DEFAULT false,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE INDEX commands_by_host_state ON commands(host_id, state);
CREATE INDEX commands_by_state ON commands(state);
CREATE TABLE command_events (
  seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  command_id TEXT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
  at_ms      BIGINT NOT NULL,
  kind       TEXT NOT NULL,
  state      TEXT NOT NULL,
  detail     TEXT NOT NULL
);
CREATE INDEX command_events_by_command ON command_events(command_id, seq);
CREATE TABLE approvals (
  command_id TEXT NOT NULL REFERENCES commands(id) ON DELETE CASCADE,
  principal  TEXT NOT NULL,
  key_id     TEXT NOT NULL,
  signature  BYTEA NOT NULL,
  custodial  BOOLEAN NOT NULL,
  at_ms      BIGINT NOT NULL,
  PRIMARY KEY (command_id, principal)
);
CREATE TABLE outbox (
  host_id         TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
  message_id      BIGINT NOT NULL,
  body            BYTEA NOT NULL,
  kind            TEXT NOT NULL,
  command_id      TEXT,
  created_at_ms   BIGINT NOT NULL,
  last_sent_at_ms BIGINT NOT NULL DEFAULT 0,
  send_count      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, message_id)
);
CREATE TABLE inbound_windows (
  host_id       TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
  highest       BIGINT NOT NULL,
  cumulative    BIGINT NOT NULL,
  bitmap        BYTEA NOT NULL,
  size          INTEGER NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE TABLE alerts (
  id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id           TEXT NOT NULL,
  host_id            TEXT NOT NULL,
  kind               TEXT NOT NULL,
  principal          TEXT NOT NULL,
  action             TEXT NOT NULL,
  domain             TEXT NOT NULL,
  reason             TEXT NOT NULL,
  time_ms            BIGINT NOT NULL,
  request_id         TEXT NOT NULL,
  signature_status   TEXT NOT NULL,
  received_at_ms     BIGINT NOT NULL,
  raw                BYTEA NOT NULL,
  acknowledged       BOOLEAN NOT NULL DEFAULT false,
  acknowledged_by    TEXT,
  acknowledged_at_ms BIGINT,
  UNIQUE (host_id, alert_id)
);
CREATE INDEX alerts_by_time ON alerts(time_ms);
CREATE TABLE status_reports (
  host_id        TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
  report         BYTEA NOT NULL,
  report_seq     BIGINT NOT NULL,
  time_ms        BIGINT NOT NULL,
  received_at_ms BIGINT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'link leases',
    // Which replica drives each host's link. Expiry is in the database's clock, so replicas' clocks do not matter.
    sql: `
CREATE TABLE link_leases (
  host_id     TEXT PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,
  owner       TEXT NOT NULL,
  generation  BIGINT NOT NULL,
  acquired_at TIMESTAMPTZ NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'roles, token expiry and revocation, alert acknowledgement comments',
    // As SQLite's version 2: principals that existed before roles get DEFAULT_ROLES (src/roles.ts).
    sql: `
CREATE TABLE principal_roles (
  principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  role      TEXT NOT NULL CHECK (role IN ('operator', 'approver', 'security', 'viewer')),
  PRIMARY KEY (principal, role)
);
INSERT INTO principal_roles (principal, role)
  SELECT p.name, r.role FROM principals p CROSS JOIN (VALUES ('operator'), ('approver'), ('viewer')) AS r(role);
ALTER TABLE tokens ADD COLUMN id TEXT;
UPDATE tokens SET id = substr(hash, 1, 16);
ALTER TABLE tokens ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX tokens_by_id ON tokens(id);
ALTER TABLE tokens ADD COLUMN expires_at_ms BIGINT;
ALTER TABLE tokens ADD COLUMN revoked_at_ms BIGINT;
ALTER TABLE alerts ADD COLUMN acknowledged_comment TEXT;
`,
  },
  {
    version: 4,
    name: 'alert outbox and per-sink deliveries (docs/alert-delivery.md)',
    // As SQLite's version 3: a trigger fills the outbox in the transaction that stores the alert.
    sql: `
CREATE TABLE alert_outbox (
  seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id      BIGINT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  created_at_ms BIGINT NOT NULL
);
CREATE FUNCTION alerts_into_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO alert_outbox (alert_id, created_at_ms) VALUES (NEW.id, NEW.received_at_ms);
  RETURN NEW;
END $$;
CREATE TRIGGER alerts_into_outbox AFTER INSERT ON alerts FOR EACH ROW EXECUTE FUNCTION alerts_into_outbox();
CREATE TABLE alert_sinks (
  name          TEXT PRIMARY KEY,
  cursor        BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE TABLE alert_deliveries (
  sink               TEXT NOT NULL REFERENCES alert_sinks(name) ON DELETE CASCADE,
  seq                BIGINT NOT NULL REFERENCES alert_outbox(seq) ON DELETE CASCADE,
  state              TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms BIGINT NOT NULL DEFAULT 0,
  claimed_until_ms   BIGINT NOT NULL DEFAULT 0,
  last_error         TEXT,
  updated_at_ms      BIGINT NOT NULL,
  delivered_at_ms    BIGINT,
  PRIMARY KEY (sink, seq)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(state, next_attempt_at_ms);
`,
  },
  {
    version: 5,
    name: 'link: what the channel learned of each host (clock offset, incarnations)',
    // As SQLite's version 4. JSON of proto's PeerState, written with the replay window it belongs to. Null: learned nothing yet.
    sql: `
ALTER TABLE inbound_windows ADD COLUMN peer TEXT;
`,
  },
  {
    version: 6,
    name: 'idempotency keys, replica heartbeats',
    // Versions 4 and 5 belong to the alert outbox and the link columns (other branches); gaps are fine.
    // idempotency_keys mirrors SQLite's version 5. link_replicas: one row per running replica that
    // drives links, renewed every heartbeat; the live ones share the hosts' link leases evenly
    // (link/lease-balancer.ts). Expiry in the database's clock.
    sql: `
CREATE TABLE idempotency_keys (
  principal     TEXT NOT NULL,
  key           TEXT NOT NULL,
  scope         TEXT NOT NULL,
  request_hash  TEXT NOT NULL,
  command_id    TEXT NOT NULL,
  status        INTEGER NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_by_time ON idempotency_keys(created_at_ms);
CREATE TABLE link_replicas (
  owner       TEXT PRIMARY KEY,
  started_at  TIMESTAMPTZ NOT NULL,
  expires_at  TIMESTAMPTZ NOT NULL
);
`,
  },
];
