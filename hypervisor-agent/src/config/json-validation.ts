/** ajv validation whose errors name the offending field ("policy.roles.operator.actions[2]: ..."). */
import { Ajv, type ErrorObject, type SchemaObject } from 'ajv';

export class ValidationError extends Error {
  readonly problems: string[];
  constructor(what: string, problems: string[]) {
    super(`${what} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

const ajv = new Ajv({ allErrors: true, strict: true });

function fieldPath(root: string, error: ErrorObject): string {
  const parts = error.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let path = root;
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : `.${part}`;
  if (error.keyword === 'required') path += `.${(error.params as { missingProperty: string }).missingProperty}`;
  if (error.keyword === 'additionalProperties') path += `.${(error.params as { additionalProperty: string }).additionalProperty}`;
  return path;
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'enum':
      return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return error.message ?? error.keyword;
  }
}

export function makeValidator<T>(schema: SchemaObject, root: string): (value: unknown) => T {
  const validate = ajv.compile(schema);
  return (value: unknown): T => {
    if (!validate(value)) {
      const problems = (validate.errors ?? []).map((e) => `${fieldPath(root, e)} ${describe(e)}`);
      throw new ValidationError(root, [...new Set(problems)]);
    }
    return value as T;
  };
}
