/**
 * JSON Schema of `bmc.json` (and of the object the command-line flags are
 * turned into, so both are checked by the same rules). Property names are
 * camelCase versions of the flags: `--queue-capacity` ↔ `queueCapacity`.
 */
import type { FruConfig } from './config-types.js';

/** A FRU text field: printable ASCII, at most 63 bytes (the 6-bit length of a type/length byte). */
const FRU_TEXT = { type: 'string', maxLength: 63, pattern: '^[\\x20-\\x7e]*$' } as const;

export const CONFIG_SCHEMA = {
  $id: 'https://backchannel.invalid/bmc-oem/config.schema.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    listen: {
      type: 'string',
      description: 'UDP address of the RMCP+ server, HOST:PORT ([v6]:PORT for IPv6).',
      pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]\\s]+):[0-9]{1,5}$',
    },
    users: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'privilege', 'passwordFile'],
        properties: {
          // IPMI user names are 1..16 bytes (RAKP 1); null names are refused.
          name: { type: 'string', minLength: 1, maxLength: 16, pattern: '^[\\x21-\\x7e]+$' },
          privilege: { enum: ['user', 'operator', 'administrator'] },
          passwordFile: { type: 'string', minLength: 1 },
        },
      },
    },
    vmListen: {
      type: 'array',
      items: { type: 'string', pattern: '^(tcp:.+:[0-9]{1,5}|unix:/.+|serial:/.+|none)$' },
    },
    sol: {
      type: 'object',
      additionalProperties: false,
      required: ['device'],
      properties: {
        device: { type: 'string', pattern: '^(tcp:.+:[0-9]{1,5}|unix:/.+|serial:/.+)$' },
        baud: { enum: [9600, 19200, 38400, 57600, 115200] },
        enabled: { type: 'boolean' },
        privilege: { enum: ['user', 'operator', 'administrator'] },
        retryCount: { type: 'integer', minimum: 0, maximum: 7 },
        retryIntervalMs: { type: 'integer', minimum: 10, maximum: 2550 },
      },
    },
    iana: { type: 'integer', minimum: 1, maximum: 0xffffff },
    queueCapacity: { type: 'integer', minimum: 256, maximum: 64 * 1024 * 1024 },
    // A record must fit one IPMI request: 3 IANA + queue + seq = 8 bytes of header.
    maxRecord: { type: 'integer', minimum: 1, maximum: 1024 },
    stateDir: { type: 'string', minLength: 1 },
    cipherSuites: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: [3, 17] },
    },
    metrics: { type: 'string', pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[^:\\[\\]\\s]+):[0-9]{1,5}$' },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    sessions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        max: { type: 'integer', minimum: 1, maximum: 65536 },
        maxPending: { type: 'integer', minimum: 1, maximum: 65536 },
        setupTimeoutMs: { type: 'integer', minimum: 100, maximum: 600_000 },
        idleTimeoutMs: { type: 'integer', minimum: 1000, maximum: 86_400_000 },
        perUser: { type: 'integer', minimum: 1, maximum: 65536 },
        perSource: { type: 'integer', minimum: 1, maximum: 65536 },
        perSourcePending: { type: 'integer', minimum: 1, maximum: 65536 },
      },
    },
    loginThrottle: {
      type: 'object',
      additionalProperties: false,
      properties: {
        freeFailures: { type: 'integer', minimum: 0, maximum: 1000 },
        baseDelayMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
        maxDelayMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
        forgetAfterMs: { type: 'integer', minimum: 1000, maximum: 30 * 86_400_000 },
      },
    },
    maxUsers: { type: 'integer', minimum: 2, maximum: 63 },
    selCapacity: { type: 'integer', minimum: 16, maximum: 65534 },
    fru: {
      type: 'object',
      additionalProperties: false,
      properties: {
        chassis: {
          type: 'object',
          additionalProperties: false,
          properties: { type: { type: 'integer', minimum: 1, maximum: 0x24 }, partNumber: FRU_TEXT, serialNumber: FRU_TEXT },
        },
        board: {
          type: 'object',
          additionalProperties: false,
          properties: { manufacturer: FRU_TEXT, productName: FRU_TEXT, serialNumber: FRU_TEXT, partNumber: FRU_TEXT },
        },
        product: {
          type: 'object',
          additionalProperties: false,
          properties: { manufacturer: FRU_TEXT, name: FRU_TEXT, partNumber: FRU_TEXT, version: FRU_TEXT, serialNumber: FRU_TEXT, assetTag: FRU_TEXT },
        },
      },
    },
    sensors: {
      type: 'object',
      additionalProperties: false,
      properties: { thermal: { type: 'boolean' }, thermalDir: { type: 'string', minLength: 1 } },
    },
    vmSocketMode: { type: 'string', pattern: '^0?[0-7]{3}$' },
    vmAllowPeers: { type: 'array', items: { type: 'string', minLength: 1 } },
    hostPower: {
      type: 'object',
      additionalProperties: false,
      required: ['backend'],
      properties: {
        backend: { enum: ['none', 'command'] },
        controlCommand: { type: 'string', minLength: 1 },
        statusCommand: { type: 'string', minLength: 1 },
        identify: { type: 'boolean' },
      },
      if: { properties: { backend: { const: 'command' } } },
      then: { required: ['controlCommand', 'statusCommand'] },
    },
    device: {
      type: 'object',
      additionalProperties: false,
      properties: {
        guid: { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' },
        deviceId: { type: 'integer', minimum: 0, maximum: 255 },
        productId: { type: 'integer', minimum: 0, maximum: 0xffff },
        firmwareMajor: { type: 'integer', minimum: 0, maximum: 127 },
        firmwareMinor: { type: 'integer', minimum: 0, maximum: 99 },
      },
    },
  },
} as const;

/** The shape the schema accepts (before defaults and password files are applied). */
export interface RawConfig {
  listen?: string;
  users?: { name: string; privilege: 'user' | 'operator' | 'administrator'; passwordFile: string }[];
  vmListen?: string[];
  sol?: { device: string; baud?: 9600 | 19200 | 38400 | 57600 | 115200; enabled?: boolean; privilege?: 'user' | 'operator' | 'administrator'; retryCount?: number; retryIntervalMs?: number };
  iana?: number;
  queueCapacity?: number;
  maxRecord?: number;
  stateDir?: string;
  cipherSuites?: (3 | 17)[];
  metrics?: string;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  sessions?: { max?: number; maxPending?: number; setupTimeoutMs?: number; idleTimeoutMs?: number; perUser?: number; perSource?: number; perSourcePending?: number };
  loginThrottle?: { freeFailures?: number; baseDelayMs?: number; maxDelayMs?: number; forgetAfterMs?: number };
  maxUsers?: number;
  selCapacity?: number;
  fru?: FruConfig;
  sensors?: { thermal?: boolean; thermalDir?: string };
  vmSocketMode?: string;
  vmAllowPeers?: string[];
  hostPower?: { backend: 'none' | 'command'; controlCommand?: string; statusCommand?: string; identify?: boolean };
  device?: { guid?: string; deviceId?: number; productId?: number; firmwareMajor?: number; firmwareMinor?: number };
}
