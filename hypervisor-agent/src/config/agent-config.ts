/**
 * The agent's configuration file (`--config agent.json`): validated (ajv, errors
 * naming the field), relative paths resolved against the file's directory,
 * defaults filled in, frozen. docs/hypervisor-agent.md documents every field.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SchemaObject } from 'ajv';
import { parseLinkUri } from '../transport/link-uri.js';
import { isSerialLink, parseSerialLink } from '../transport/serial-target.js';
import { makeValidator, ValidationError } from './json-validation.js';

export interface AgentConfig {
  hostId: string;
  link: string;
  iana: number;
  libvirtUri: string;
  seedFile: string;
  hostKeyFile: string;
  policyFile: string;
  stateDir: string;
  managerKeysFile: string;
  poll: { minMs: number; maxMs: number };
  reportIntervalSeconds: number;
  statePollSeconds: number;
  shutdownTimeoutSeconds: number;
  envelope: { stepSeconds: number; skewSteps: number };
  retransmit: { initialMs: number; maxMs: number };
  ackDelayMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

type RawConfig = Partial<AgentConfig> & Pick<AgentConfig, 'hostId' | 'link' | 'libvirtUri' | 'seedFile' | 'hostKeyFile' | 'policyFile' | 'stateDir'>;

const path = { type: 'string', minLength: 1 };
const schema: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  required: ['hostId', 'link', 'libvirtUri', 'seedFile', 'hostKeyFile', 'policyFile', 'stateDir'],
  properties: {
    hostId: { type: 'string', minLength: 1, maxLength: 128 },
    link: { type: 'string', minLength: 1 },
    iana: { type: 'integer', minimum: 1, maximum: 0xffffff },
    libvirtUri: { type: 'string', minLength: 1 },
    seedFile: path,
    hostKeyFile: path,
    policyFile: path,
    stateDir: path,
    managerKeysFile: path,
    poll: {
      type: 'object',
      additionalProperties: false,
      required: ['minMs', 'maxMs'],
      properties: { minMs: { type: 'integer', minimum: 1, maximum: 60000 }, maxMs: { type: 'integer', minimum: 1, maximum: 600000 } },
    },
    reportIntervalSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
    statePollSeconds: { type: 'number', minimum: 0.1, maximum: 3600 },
    shutdownTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
    envelope: {
      type: 'object',
      additionalProperties: false,
      properties: { stepSeconds: { type: 'integer', minimum: 1, maximum: 300 }, skewSteps: { type: 'integer', minimum: 0, maximum: 10 } },
    },
    retransmit: {
      type: 'object',
      additionalProperties: false,
      properties: { initialMs: { type: 'integer', minimum: 10, maximum: 600000 }, maxMs: { type: 'integer', minimum: 10, maximum: 3600000 } },
    },
    ackDelayMs: { type: 'integer', minimum: 0, maximum: 60000 },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] },
  },
};

const validate = makeValidator<RawConfig>(schema, 'config');

export function parseAgentConfig(raw: unknown, baseDir: string): AgentConfig {
  const c = validate(raw);
  const problems: string[] = [];
  try {
    if (isSerialLink(c.link)) parseSerialLink(c.link);
    else parseLinkUri(c.link);
  } catch (err) {
    problems.push(`config.link ${(err as Error).message}`);
  }
  const poll = c.poll ?? { minMs: 50, maxMs: 2000 };
  if (poll.maxMs < poll.minMs) problems.push(`config.poll.maxMs (${poll.maxMs}) must be >= config.poll.minMs (${poll.minMs})`);
  const retransmit = { initialMs: c.retransmit?.initialMs ?? 5000, maxMs: c.retransmit?.maxMs ?? 60000 };
  if (retransmit.maxMs < retransmit.initialMs) problems.push('config.retransmit.maxMs must be >= config.retransmit.initialMs');
  if (problems.length > 0) throw new ValidationError('config', problems);
  const at = (p: string): string => resolve(baseDir, p);
  const seedFile = at(c.seedFile);
  return Object.freeze({
    hostId: c.hostId,
    link: c.link,
    iana: c.iana ?? 32473,
    libvirtUri: c.libvirtUri,
    seedFile,
    hostKeyFile: at(c.hostKeyFile),
    policyFile: at(c.policyFile),
    stateDir: at(c.stateDir),
    managerKeysFile: c.managerKeysFile ? at(c.managerKeysFile) : resolve(dirname(seedFile), 'manager-keys.json'),
    poll: Object.freeze({ ...poll }),
    reportIntervalSeconds: c.reportIntervalSeconds ?? 60,
    statePollSeconds: c.statePollSeconds ?? 5,
    shutdownTimeoutSeconds: c.shutdownTimeoutSeconds ?? 120,
    envelope: Object.freeze({ stepSeconds: c.envelope?.stepSeconds ?? 30, skewSteps: c.envelope?.skewSteps ?? 1 }),
    retransmit: Object.freeze(retransmit),
    ackDelayMs: c.ackDelayMs ?? 200,
    logLevel: c.logLevel ?? 'info',
  });
}

export function loadAgentConfig(file: string): AgentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError('config', [`${file}: ${(err as Error).message}`]);
  }
  return parseAgentConfig(raw, dirname(resolve(file)));
}
