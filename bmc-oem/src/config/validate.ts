/** JSON Schema validation of the raw config with errors that name the field. */
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError } from './config-error.js';
import { CONFIG_SCHEMA, type RawConfig } from './schema.js';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validateSchema = ajv.compile(CONFIG_SCHEMA);

/** `/users/0/privilege` → `users[0].privilege`. */
export function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(config)' : out;
}

function describe(e: ErrorObject): { field: string; message: string } {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { field: fieldPath(e.instancePath, String(p.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { field: fieldPath(e.instancePath, String(p.additionalProperty)), message: 'is not a known setting' };
    case 'enum':
      return { field: fieldPath(e.instancePath), message: `must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}` };
    case 'pattern':
      return { field: fieldPath(e.instancePath), message: `has the wrong form (${hintFor(e.instancePath)})` };
    default:
      return { field: fieldPath(e.instancePath), message: e.message ?? 'is invalid' };
  }
}

function hintFor(instancePath: string): string {
  if (instancePath === '/listen' || instancePath === '/metrics') return 'expected HOST:PORT';
  if (instancePath.startsWith('/vmListen')) return 'expected tcp:HOST:PORT, unix:/PATH or serial:/DEV[@BAUD]';
  if (instancePath.endsWith('/name')) return 'expected 1 to 16 printable ASCII characters without spaces';
  if (instancePath.endsWith('/guid')) return 'expected a UUID like 01234567-89ab-cdef-0123-456789abcdef';
  return 'see docs/bmc-oem.md';
}

/**
 * Validates `raw`; throws one ConfigError listing every problem, the first
 * one's field in `field`. `flagFor` maps top-level keys to the flag that set
 * them, so a bad flag is reported by its flag name.
 */
export function validateRawConfig(raw: unknown, flagFor: Record<string, string> = {}): RawConfig {
  if (validateSchema(raw)) return raw as RawConfig;
  // `if/then` adds a summary error next to the real one; keep the useful ones.
  const errors = (validateSchema.errors ?? []).filter((e) => e.keyword !== 'if');
  const described = errors.map((e) => {
    const d = describe(e);
    const top = d.field.split(/[.[]/)[0] ?? '';
    const flag = flagFor[top];
    return { field: flag === undefined ? d.field : `${flag} (${d.field})`, message: d.message };
  });
  const first = described[0] ?? { field: '(config)', message: 'is invalid' };
  const err = new ConfigError(first.field, first.message);
  if (described.length > 1) err.message = described.map((d) => `${d.field}: ${d.message}`).join('; ');
  throw err;
}
