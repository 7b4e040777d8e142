/**
 * Client-supplied idempotency keys (the `Idempotency-Key` header on the
 * POSTs that create or approve commands). A key names one request of one
 * principal: the first request with it is carried out and the key stored
 * in the same transaction as its effect, so a client that retries after
 * a lost answer (a connection error, a replica taken over mid-request)
 * gets the first command back instead of creating a second one.
 * commands/idempotency.ts decides what counts as "the same request".
 */
export interface IdempotencyRecord {
  /** Keys are scoped per principal: two principals may use the same key. */
  principal: string;
  key: string;
  /** Which operation the key was used for ("issue", "approve"). */
  scope: string;
  /** SHA-256 (hex) of the canonical request: what "the same body" means. */
  requestHash: string;
  commandId: string;
  /** The HTTP status the first request was answered with. */
  status: number;
  createdAtMs: number;
}

export interface IdempotencyKeys {
  /** The stored use of `key` by `principal` no older than `notBeforeMs`, if any. */
  getIdempotencyKey(principal: string, key: string, notBeforeMs: number): Promise<IdempotencyRecord | undefined>;
  /** Forgets keys created before `beforeMs`; returns how many. */
  purgeIdempotencyKeys(beforeMs: number): Promise<number>;
}

/** Thrown by the `idempotency.insert` mutation when the principal already used the key (a concurrent retry): the batch is not applied. */
export class IdempotencyKeyTakenError extends Error {
  readonly code = 'IDEMPOTENCY_KEY_TAKEN';
  constructor(principal: string, key: string) {
    super(`idempotency key ${JSON.stringify(key)} of ${principal} is already in use`);
    this.name = 'IdempotencyKeyTakenError';
  }
}

export function isIdempotencyKeys(x: unknown): x is IdempotencyKeys {
  return typeof (x as Partial<IdempotencyKeys>)?.getIdempotencyKey === 'function';
}
