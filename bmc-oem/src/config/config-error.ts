/**
 * A configuration problem, naming the field it is about (as a JSON path such
 * as `users[1].privilege`, or the command-line flag that set it) so an
 * operator can fix it without reading code.
 */
export class ConfigError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}
