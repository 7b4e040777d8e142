/**
 * TypeBox schemas of the REST API. They validate requests, shape responses
 * (fast-json-stringify drops anything not declared) and generate the
 * OpenAPI document at /openapi.json.
 */
import { type Static, type TSchema, Type } from '@fastify/type-provider-typebox';

export const ErrorBody = Type.Object({
  code: Type.String({ description: 'stable error code, e.g. HOST_NOT_FOUND' }), message: Type.String({ description: 'what went wrong and what to do' }),
});

/**
 * `T` or null, written the OpenAPI 3.0 way (`nullable: true`, as the document
 * at /openapi.json declares 3.0.3). Not `anyOf [T, null]`: for that,
 * fast-json-stringify runs an ajv validation of every value to pick the branch,
 * which cost more than the rest of a command's serialization.
 */
const Nullable = <T extends TSchema>(t: T) => Type.Unsafe<Static<T> | null>({ ...t, nullable: true });

/** Names as docs/security.md "Names" defines them (src/names.ts); path segments are checked after URL decoding. */
const HostId = Type.String({ format: 'host-id', description: 'host id: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit' });
const DomainName = Type.String({
  format: 'libvirt-domain-name',
  description: 'libvirt domain name: 1-251 bytes of NFC UTF-8, no control, format or invisible characters, no "/", no space at either end',
});
const PrincipalName = Type.String({ format: 'principal-name', description: 'principal: 1-64 of A-Z a-z 0-9 _ . @ -' });

export const HostParam = Type.Object({ host: HostId });
export const HostDomainParams = Type.Object({ host: HostId, domain: DomainName });
export const IdParam = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'command id (32 hex digits)' }) });
/** Optional client request id (commands/idempotency.ts); its syntax is checked by the route, with a clearer message. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({ description: 'a fresh random key per logical request (e.g. a UUID), repeated on every retry of it; kept 24 h per principal. Same key and body: the first command is returned; another body: 422' }),
  ),
});
export const CommandWaitQuery = Type.Object({
  wait: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 60_000, description: 'long-poll: answer once the command is final or awaiting approval, or after this many ms' }),
  ),
});
export const AlertIdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const ActionBody = Type.Object(
  {
    action: Type.String({ minLength: 1, maxLength: 32, description: 'start, shutdown, destroy, reboot, reset, suspend, resume, list_domains, domain_info' }),
    // Keys are plain identifiers and values carry no control characters: they reach the hypervisor-agent and its logs.
    params: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Type.String({ maxLength: 1024, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$' }), {
        additionalProperties: false,
        maxProperties: 32,
        description: 'string parameters: keys 1-64 of A-Z a-z 0-9 _ . -, values without control characters',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ApprovalBody = Type.Object(
  {
    signature: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9+/]{86}==$', description: 'base64 Ed25519 signature (64 bytes) over the canonical challenge bytes; omit to sign with your custodial key' }),
    ),
    keyId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16}$' })),
  },
  { additionalProperties: false },
);

const Domain = Type.Object({
  name: Type.String(),
  uuid: Type.String(),
  state: Type.String(),
  vcpus: Type.Integer(),
  memoryKib: Type.Number(),
  maxMemoryKib: Type.Number(),
  id: Type.Integer(),
});

export const CommandSummary = Type.Object({
  id: Type.String(),
  hostId: Type.String(),
  domain: Type.String(),
  action: Type.String(),
  principal: Type.String(),
  state: Type.String(),
  createdAtMs: Type.Number(),
  updatedAtMs: Type.Number(),
});

export const Command = Type.Object({
  id: Type.String(),
  hostId: Type.String(),
  domain: Type.String(),
  action: Type.String(),
  principal: Type.String(),
  state: Type.String({ description: 'queued, sent, challenged, awaiting_approval, applied, denied, failed, expired' }),
  createdAtMs: Type.Number(),
  updatedAtMs: Type.Number(),
  params: Type.Record(Type.String(), Type.String()),
  request: Type.Object({
    requestId: Type.String(),
    hostId: Type.String(),
    principal: Type.String(),
    action: Type.String(),
    domain: Type.String(),
    parameters: Type.Record(Type.String(), Type.String()),
    issuedAtMs: Type.Number(),
    signatureKeyId: Type.String(),
  }),
  challenge: Nullable(
    Type.Object({
      requestId: Type.String(),
      hostId: Type.String(),
      nonce: Type.String(),
      expiresAtMs: Type.Number({ description: "the challenge's expiry on the hypervisor's clock (signed by approvers)" }),
      managerExpiresAtMs: Type.Number({ description: "the same instant on vms-agent's clock (the host's learned clock offset taken out): compare with this" }),
      requestDigest: Type.String(),
      approvalsRequired: Type.Integer(),
      approvers: Type.Array(Type.String()),
    }),
  ),
  responseSent: Type.Boolean(),
  approvals: Type.Array(Type.Object({ principal: Type.String(), keyId: Type.String(), custodial: Type.Boolean(), atMs: Type.Number() })),
  result: Nullable(
    Type.Object({
      outcome: Type.String(),
      previousState: Type.String(),
      newState: Type.String(),
      errorCode: Type.String(),
      errorMessage: Type.String(),
      completedAtMs: Type.Number(),
      domains: Type.Array(Domain),
      domainInfo: Nullable(Domain),
      domainName: Type.String(),
      domainUuid: Type.String(),
      stopMethod: Type.String({ description: 'how a stop ended: guest_powered_off, domain_gone, forced, already_off; empty otherwise' }),
      detail: Type.String({ description: 'what happened, in words' }),
      durationMs: Type.Number({ description: 'handover to libvirt → result, at the hypervisor-agent' }),
    }),
  ),
  events: Type.Array(Type.Object({ atMs: Type.Number(), kind: Type.String(), state: Type.String(), detail: Type.String() })),
});

export const CommandList = Type.Object({ commands: Type.Array(CommandSummary) });
/** The JSON of a command (GET /v1/commands/{id}, POST …/actions), as clients read it. */
export type CommandJson = Static<typeof Command>;
/** One entry of GET /v1/commands. */
export type CommandSummaryJson = Static<typeof CommandSummary>;
export const CommandListQuery = Type.Object({
  host: Type.Optional(HostId),
  principal: Type.Optional(PrincipalName),
  state: Type.Optional(Type.String({ pattern: '^(queued|sent|challenged|awaiting_approval|applied|denied|failed|expired)$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

const QueueFigures = Type.Object({ depth: Type.Integer(), usedBytes: Type.Integer(), capacityBytes: Type.Integer() });

export const Host = Type.Object({
  id: Type.String(),
  bmc: Type.Object({ address: Type.String(), port: Type.Integer(), user: Type.String(), privilege: Type.String(), cipherSuites: Type.Array(Type.Integer()) }),
  hostPublicKey: Nullable(Type.String()),
  policyInfo: Nullable(Type.String()),
  link: Type.Object({
    state: Type.String({ description: 'connecting, up, backoff, auth_failed (credentials refused: not retried into a lockout), clock_skew (host clock beyond tolerance), stopped' }),
    sinceMs: Nullable(Type.Number()),
    lastError: Nullable(Type.String()),
    unacked: Type.Integer(),
    lastReceiveAtMs: Nullable(Type.Number()),
    queues: Type.Optional(
      Nullable(
        Type.Object(
          { atMs: Type.Number(), toHost: QueueFigures, toManager: QueueFigures },
          { description: "Both BMC queues at the link's last Get Queue Info (every 15 s and at connect); null before the first" },
        ),
      ),
    ),
    clockOffsetMs: Type.Optional(
      Nullable(Type.Number({ description: "The hypervisor's clock minus the manager's (ms), learned through the authenticated channel; null before the first message" })),
    ),
  }),
  status: Nullable(Type.Object({ reportTimeMs: Type.Number(), receivedAtMs: Type.Number(), ageMs: Type.Number(), reportSeq: Type.Number() })),
});
export const HostList = Type.Object({ hosts: Type.Array(Host) });

export const Domains = Type.Object({
  hostId: Type.String(),
  reportTimeMs: Type.Number(),
  ageMs: Type.Number(),
  hypervisor: Type.String(),
  libvirtVersion: Type.String(),
  agentVersion: Type.String(),
  domains: Type.Array(Domain),
});

export const Alert = Type.Object({
  id: Type.Integer(),
  alertId: Type.String(),
  hostId: Type.String(),
  kind: Type.String(),
  principal: Type.String(),
  action: Type.String(),
  domain: Type.String(),
  reason: Type.String(),
  timeMs: Type.Number(),
  requestId: Type.String(),
  signatureStatus: Type.String({ description: 'verified (host key), bad (does not verify: treat as forged), unverified (no host key registered), manager (raised by vms-agent itself, e.g. foreign_producer)' }),
  receivedAtMs: Type.Number(),
  acknowledged: Type.Boolean(),
  acknowledgedBy: Nullable(Type.String()),
  acknowledgedAtMs: Nullable(Type.Number()),
  acknowledgedComment: Nullable(Type.String({ description: 'what the acknowledging principal wrote' })),
});
export const AlertList = Type.Object({ alerts: Type.Array(Alert) });
export const AlertQuery = Type.Object({
  host: Type.Optional(HostId),
  kind: Type.Optional(Type.String({ pattern: '^[a-z0-9_]{1,64}$' })),
  principal: Type.Optional(PrincipalName),
  since: Type.Optional(Type.Integer({ minimum: 0, description: 'Unix ms; alerts received at or after' })),
  acknowledged: Type.Optional(Type.Boolean()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

export const AckBody = Type.Object(
  {
    comment: Type.String({
      minLength: 1,
      maxLength: 2000,
      // At least one visible character; no control characters but line breaks and tabs.
      pattern: '^(?=[\\s\\S]*\\S)[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$',
      description: 'why the alert is benign or what was done about it; recorded with who and when',
    }),
  },
  { additionalProperties: false },
);

export const Health = Type.Object({ status: Type.String(), hosts: Type.Integer(), linksUp: Type.Integer() });
