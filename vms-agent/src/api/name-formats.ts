/**
 * The name grammars of src/names.ts as JSON Schema formats, so every route
 * that takes a domain, host or principal (in the path, the query or a body)
 * declares it in its schema and the OpenAPI document shows it. Path
 * segments are checked after URL decoding: `db-1%00` arrives here as
 * "db-1\0" and is refused.
 */
import type { Ajv, ErrorObject } from 'ajv';
import { NAME_PROBLEM, type NameKind } from '../names.js';

export const NAME_FORMATS: Record<string, NameKind> = {
  'libvirt-domain-name': 'domain',
  'host-id': 'host',
  'principal-name': 'principal',
};

export function addNameFormats(ajv: Ajv): void {
  for (const [format, kind] of Object.entries(NAME_FORMATS)) {
    ajv.addFormat(format, { type: 'string', validate: (value: string) => NAME_PROBLEM[kind](value) === undefined });
  }
}

/**
 * A readable message for a failed name format ("params/domain "db-1\u0000"
 * contains U+0000 at position 4 ..."), or undefined for any other error.
 * Needs ajv's `verbose` (the error carries the value).
 */
export function nameFormatMessage(context: string, errors: readonly Partial<ErrorObject>[] | undefined): string | undefined {
  for (const e of errors ?? []) {
    const format = e.keyword === 'format' ? (e.params as { format?: string } | undefined)?.format : undefined;
    const kind = format ? NAME_FORMATS[format] : undefined;
    if (!kind || typeof e.data !== 'string') continue;
    const shown = JSON.stringify(e.data.length > 80 ? `${e.data.slice(0, 80)}…` : e.data);
    return `${context}${e.instancePath ?? ''} ${shown} ${NAME_PROBLEM[kind](e.data) ?? 'is not accepted'}; see docs/security.md "Names"`;
  }
  return undefined;
}
