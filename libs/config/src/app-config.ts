import { plainToInstance, Transform } from 'class-transformer';
import {
  getMetadataStorage,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** Settings of the api, worker and cli processes. Each field is one environment variable. */
export class AppConfig {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL!: string;

  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL!: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '127.0.0.1';

  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET!: string;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(3600)
  JWT_TTL_SECONDS = 900;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toBool)
  @IsBoolean()
  LOG_PRETTY = false;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_RATE_LIMIT = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_RATE_WINDOW_SECONDS = 60;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  LOCKOUT_THRESHOLD = 5;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOCKOUT_MINUTES = 15;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  AUDIT_CHAIN_LANES = 16;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 10 * 1024 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DB_POOL_SIZE = 10;

  @IsOptional()
  @IsString()
  AUDIT_VERIFY_CRON?: string = '0 3 * * *';

  /** How often the worker queues again ingest evaluations left undone (their job lost with Redis). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  INGEST_SWEEP_INTERVAL_MS = 60_000;

  /** How long an ingest evaluation may wait before the sweep queues it again. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  INGEST_SWEEP_AGE_MS = 60_000;
}

/** Settings of the firmware bridge: an API address and a token, nothing that reaches a database. */
export class BridgeConfig {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Matches(/^https?:\/\/.+/, { message: 'BRIDGE_API_URL must be an http(s):// URL' })
  BRIDGE_API_URL = 'http://127.0.0.1:3000';

  @IsOptional()
  @IsString()
  BRIDGE_TOKEN?: string;

  @IsString()
  BRIDGE_SPOOL_DIR = '.data/bridge-spool';

  /** Bounded spool: when full, devices are no longer acknowledged (they keep their data) and an alarm is raised. */
  @Transform(toInt)
  @IsInt()
  @Min(4096, { message: 'BRIDGE_SPOOL_MAX_BYTES must be at least 4096' })
  BRIDGE_SPOOL_MAX_BYTES = 256 * 1024 * 1024;

  /** The devices, a JSON array of ports (firmware-bridge/src/config/device-config.ts checks each field). */
  @IsString()
  BRIDGE_DEVICES = '[]';

  /** The same list in a file; wins over BRIDGE_DEVICES. */
  @IsOptional()
  @IsString()
  BRIDGE_DEVICES_FILE?: string;

  /** Records per upload batch (the API takes at most INGEST_MAX_RECORDS = 10 000). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000)
  BRIDGE_UPLOAD_MAX_RECORDS = 2_000;

  /** PROTOCOL.md §6: |device − host| at or above this is corrected (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  BRIDGE_SKEW_CORRECT_MS = 2_000;

  /** PROTOCOL.md §6: |device − host| above this flags the readings clock_skew (ms). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  BRIDGE_SKEW_FLAG_MS = 60_000;

  /** Loopback port of the status endpoint (GET /status); 0 = none (the status file is always written). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  BRIDGE_STATUS_PORT = 0;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @Transform(toBool)
  @IsBoolean()
  LOG_PRETTY = false;
}

export class ConfigError extends Error {
  constructor(
    readonly variables: string[],
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function describe(errors: ValidationError[]): { variables: string[]; message: string } {
  const variables = errors.map((e) => e.property);
  const lines = errors.map((e) => {
    const why = Object.values(e.constraints ?? {}).join('; ');
    return `  ${e.property}: ${why || 'invalid'}`;
  });
  return { variables, message: `Invalid configuration:\n${lines.join('\n')}` };
}

/**
 * Every variable a settings class declares: the decorated properties, including those without a default,
 * which an instance does not list as own keys.
 */
function variablesOf(cls: new () => object): Set<string> {
  const decorated = getMetadataStorage()
    .getTargetValidationMetadatas(cls, '', true, false)
    .map((m) => m.propertyName);
  return new Set([...Object.keys(new cls()), ...decorated]);
}

/** Variables whose empty value switches a feature off rather than falling back to the default. */
const EMPTY_MEANS_OFF: ReadonlySet<string> = new Set(['AUDIT_VERIFY_CRON']);

function load<T extends object>(cls: new () => T, env: Env): T {
  const known = variablesOf(cls);
  const picked: Record<string, string> = {};
  for (const key of known) {
    const value = env[key];
    // An empty string counts as "not set", so that `FOO=` in a .env file falls back to the default —
    // except for the variables where empty means "off".
    if (value !== undefined && (value !== '' || EMPTY_MEANS_OFF.has(key))) picked[key] = value;
  }
  const instance = plainToInstance(cls, picked);
  const errors = validateSync(instance, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const { variables, message } = describe(errors);
    throw new ConfigError(variables, message);
  }
  return instance;
}

/**
 * Reads the configuration once, at boot, and fails with a message naming every bad variable.
 * The only place in the code base that reads `process.env` (STYLE.md habit 7).
 */
export function loadAppConfig(env: Env = process.env): AppConfig {
  return load(AppConfig, env);
}

export function loadBridgeConfig(env: Env = process.env): BridgeConfig {
  return load(BridgeConfig, env);
}

/** Builds a config from explicit values (tests, benchmarks), validated the same way. */
export function appConfigFrom(
  values: Partial<Record<keyof AppConfig, string | number | boolean>>,
): AppConfig {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined) env[k] = String(v);
  return load(AppConfig, env);
}

/** For the few tools (test harness, start script helpers) that must pass the environment on to a child. */
export function currentEnvironment(): Env {
  return process.env;
}
