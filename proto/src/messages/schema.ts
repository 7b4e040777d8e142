/**
 * The generated protobuf classes (schema/backchannel/v1), re-exported under
 * short names, plus decode helpers that turn protobufjs's assorted errors
 * into WireError. Unknown fields are kept in `$unknowns` by the generated
 * decoders and written back by the encoders, so a relay never drops what a
 * newer peer added.
 */
import './protobuf-runtime.js';
import { backchannel } from '../gen/backchannel.js';
import { WireError } from '../errors.js';

export const v1 = backchannel.v1;
export type { backchannel };

export const Direction = v1.Direction;
export type Direction = backchannel.v1.Direction;
export const Action = v1.Action;
export type Action = backchannel.v1.Action;
export const Outcome = v1.Outcome;
export type Outcome = backchannel.v1.Outcome;
export const DomainState = v1.DomainState;
export type DomainState = backchannel.v1.DomainState;
export const AlertKind = v1.AlertKind;
export type AlertKind = backchannel.v1.AlertKind;
export const Role = v1.Role;
export type Role = backchannel.v1.Role;
export const StopMethod = v1.StopMethod;
export type StopMethod = backchannel.v1.StopMethod;
export const ResyncReason = v1.ResyncReason;
export type ResyncReason = backchannel.v1.ResyncReason;

export type EnvelopeHeader = backchannel.v1.IEnvelopeHeader;
export type Body = backchannel.v1.IBody;
export type CommandRequest = backchannel.v1.ICommandRequest;
export type Challenge = backchannel.v1.IChallenge;
export type ChallengeResponse = backchannel.v1.IChallengeResponse;
export type CommandResult = backchannel.v1.ICommandResult;
export type StatusReport = backchannel.v1.IStatusReport;
export type DomainInfo = backchannel.v1.IDomainInfo;
export type Alert = backchannel.v1.IAlert;
export type Ack = backchannel.v1.IAck;
export type Hello = backchannel.v1.IHello;
export type Resync = backchannel.v1.IResync;
export type Signature = backchannel.v1.ISignature;
export type CommandProgress = backchannel.v1.ICommandProgress;

/** The payload kinds a Body can carry (the `payload` oneof). */
export type PayloadKind = NonNullable<backchannel.v1.Body['payload']>;

interface GeneratedDecoder<T> {
  decode(reader: Uint8Array): T;
}

interface GeneratedEncoder<T> {
  encode(message: T): { finish(): Uint8Array };
  verify(message: Record<string, unknown>): string | null;
}

/** Decodes protobuf bytes into a message, or throws WireError ERR_PROTOBUF_DECODE. */
export function decodeMessage<T>(codec: GeneratedDecoder<T>, bytes: Uint8Array, what: string): T {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new WireError('ERR_PROTOBUF_DECODE', `${what}: ${(err as Error).message}`);
  }
}

/** Encodes after checking field types, so a bad value fails here with the field named. */
export function encodeMessage<T>(codec: GeneratedEncoder<T>, message: T, what: string): Uint8Array {
  const problem = codec.verify(message as Record<string, unknown>);
  if (problem) throw new WireError('ERR_BAD_FIELD', `${what}: ${problem}`);
  return codec.encode(message).finish();
}

export function encodeBody(body: Body): Uint8Array {
  return encodeMessage(v1.Body, body, 'Body');
}

export function decodeBody(bytes: Uint8Array): backchannel.v1.Body {
  return decodeMessage(v1.Body, bytes, 'Body');
}

/** Lower-case action names as they appear in policy files and the API ("start", "list_domains"). */
export function actionName(action: Action): string {
  const name = v1.Action[action] as string | undefined;
  return name ? name.replace(/^ACTION_/, '').toLowerCase() : `action_${action}`;
}

export function parseActionName(name: string): Action | undefined {
  const value = (v1.Action as unknown as Record<string, number>)[`ACTION_${name.toUpperCase()}`];
  return value === undefined || value === 0 ? undefined : (value as Action);
}

export const READ_ONLY_ACTIONS: ReadonlySet<Action> = new Set([Action.ACTION_LIST_DOMAINS, Action.ACTION_DOMAIN_INFO]);

export function alertKindName(kind: AlertKind): string {
  const name = v1.AlertKind[kind] as string | undefined;
  return name ? name.replace(/^ALERT_KIND_/, '').toLowerCase() : `alert_kind_${kind}`;
}

export function domainStateName(state: DomainState): string {
  const name = v1.DomainState[state] as string | undefined;
  return name ? name.replace(/^DOMAIN_STATE_/, '').toLowerCase() : `state_${state}`;
}

export function outcomeName(outcome: Outcome): string {
  const name = v1.Outcome[outcome] as string | undefined;
  return name ? name.replace(/^OUTCOME_/, '').toLowerCase() : `outcome_${outcome}`;
}
