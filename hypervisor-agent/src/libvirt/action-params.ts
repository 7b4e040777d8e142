/**
 * A request's `parameters` map, checked per action. Unknown names and bad
 * values are refused with a message that says what is accepted (a typo must
 * not silently fall back to a default).
 *
 * shutdown:
 *   timeout_s      how long to wait for the guest to power off (1..3600;
 *                  default: the agent's shutdownTimeoutSeconds)
 *   force_after_s  destroy the domain if it is still running this long after
 *                  the ACPI request (1..3600, at most timeout_s when both are given)
 */
import { Action, actionName } from '@backchannel/proto';

export interface ActionParams {
  timeoutMs?: number;
  forceAfterMs?: number;
}

const ACCEPTED: Partial<Record<Action, readonly string[]>> = {
  [Action.ACTION_SHUTDOWN]: ['timeout_s', 'force_after_s'],
};

export type ParamsVerdict = { ok: true; params: ActionParams } | { ok: false; message: string };

function seconds(name: string, text: string): number | string {
  if (!/^[0-9]{1,4}$/.test(text)) return `parameter ${name} must be a whole number of seconds, got ${JSON.stringify(text)}`;
  const value = Number(text);
  if (value < 1 || value > 3600) return `parameter ${name} must be between 1 and 3600 seconds, got ${value}`;
  return value;
}

export function parseActionParams(action: Action, raw: Record<string, string> | null | undefined): ParamsVerdict {
  const accepted = ACCEPTED[action] ?? [];
  const params: ActionParams = {};
  for (const [name, text] of Object.entries(raw ?? {})) {
    if (!accepted.includes(name)) {
      const which = accepted.length ? `accepts only ${accepted.join(', ')}` : 'takes no parameters';
      return { ok: false, message: `${actionName(action)} ${which}; got ${JSON.stringify(name)}` };
    }
    const value = seconds(name, text);
    if (typeof value === 'string') return { ok: false, message: value };
    if (name === 'timeout_s') params.timeoutMs = value * 1000;
    if (name === 'force_after_s') params.forceAfterMs = value * 1000;
  }
  if (params.timeoutMs !== undefined && params.forceAfterMs !== undefined && params.forceAfterMs > params.timeoutMs) {
    return { ok: false, message: `parameter force_after_s (${params.forceAfterMs / 1000}) must not exceed timeout_s (${params.timeoutMs / 1000})` };
  }
  return { ok: true, params };
}
