/**
 * One configuration schema with defaults, read from an optional JSON file, then the
 * environment, then flags (later wins), validated once and frozen. Unknown keys, unknown
 * OSDEPLOY_* variables and wrong values are clear errors at start.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { storeTargetOf } from './store/open-store.js';
import { KEY_FORMS, parseKeyText, SecretKey } from './store/secrets/key.js';

export interface Config {
  readonly dataDir: string;
  readonly httpPort: number;
  readonly bind: string;
  readonly siteCode: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The address clients are told to use; defaults to http://<advertise address>:<httpPort>. */
  readonly publicUrl: string | null;
  /** The PXE responder (proxyDHCP on dhcpPort and pxePort); `off` disables it. */
  readonly pxe: 'on' | 'off';
  readonly dhcpPort: number;
  readonly pxePort: number;
  /** The TFTP server; `off` disables it. */
  readonly tftp: 'on' | 'off';
  readonly tftpPort: number;
  /** The TFTP data path: `auto` (native when built, else JavaScript), `native` (refuse to start without it), `js`. */
  readonly tftpEngine: 'auto' | 'native' | 'js';
  /** The IPv4 address put in PXE replies (next-server, URLs); auto-detected when unset. */
  readonly advertiseAddress: string | null;
  /** The key that encrypts secrets at rest, from OSDEPLOY_SECRET_KEY only (docs/security.md). */
  readonly secretKey: SecretKey | null;
  /** A key file kept apart from the data directory; default DATA_DIR/secret.key, made on first start. */
  readonly secretKeyFile: string | null;
  /**
   * Where the site database is: null (DATA_DIR/site.db, the embedded SQLite), a SQLite file
   * path, or a postgres:// URL (docs/database.md). Logged only without its password.
   */
  readonly databaseUrl: string | null;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Key = keyof Config;

interface KeySpec {
  readonly env: string;
  /** null: only from the environment (a secret on a command line or in a config file is readable by others). */
  readonly flag: string | null;
  readonly parse: (raw: unknown, where: string) => unknown;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const text = (raw: unknown, where: string): string => {
  if (typeof raw !== 'string' || raw.length === 0) throw new ConfigError(`${where} must be a non-empty string`);
  return raw;
};
const port = (raw: unknown, where: string): number => {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${where} must be a port number 0..65535 (got ${JSON.stringify(raw)})`);
  return n;
};

const onOff = (raw: unknown, where: string): 'on' | 'off' => {
  const v = typeof raw === 'boolean' ? (raw ? 'on' : 'off') : String(raw).toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return 'on';
  if (['off', 'false', '0', 'no'].includes(v)) return 'off';
  throw new ConfigError(`${where} must be on or off (got ${JSON.stringify(raw)})`);
};
const ipv4 = (raw: unknown, where: string): string => {
  const s = text(raw, where);
  const parts = s.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new ConfigError(`${where} must be an IPv4 address (got ${JSON.stringify(raw)})`);
  return s;
};

export const CONFIG_KEYS: Readonly<Record<Key, KeySpec>> = {
  dataDir: { env: 'OSDEPLOY_DATA_DIR', flag: 'data-dir', parse: (r, w) => path.resolve(text(r, w)) },
  httpPort: { env: 'OSDEPLOY_HTTP_PORT', flag: 'http-port', parse: port },
  bind: { env: 'OSDEPLOY_BIND', flag: 'bind', parse: text },
  siteCode: {
    env: 'OSDEPLOY_SITE_CODE',
    flag: 'site-code',
    parse: (r, w) => {
      const s = text(r, w).toUpperCase();
      if (!/^[A-Z0-9]{3}$/.test(s)) throw new ConfigError(`${w} must be three letters or digits, like PS1 (got ${JSON.stringify(r)})`);
      return s;
    },
  },
  logLevel: {
    env: 'OSDEPLOY_LOG_LEVEL',
    flag: 'log-level',
    parse: (r, w) => {
      const s = text(r, w);
      if (!LOG_LEVELS.includes(s)) throw new ConfigError(`${w} must be one of ${LOG_LEVELS.join(', ')}`);
      return s;
    },
  },
  publicUrl: {
    env: 'OSDEPLOY_PUBLIC_URL',
    flag: 'public-url',
    parse: (r, w) => {
      const s = text(r, w);
      if (!/^https?:\/\/[^/\s]+\/?$/.test(s)) throw new ConfigError(`${w} must be an http(s) origin like http://10.0.0.5:8080`);
      return s.replace(/\/$/, '');
    },
  },
  pxe: { env: 'OSDEPLOY_PXE', flag: 'pxe', parse: onOff },
  dhcpPort: { env: 'OSDEPLOY_DHCP_PORT', flag: 'dhcp-port', parse: port },
  pxePort: { env: 'OSDEPLOY_PXE_PORT', flag: 'pxe-port', parse: port },
  tftp: { env: 'OSDEPLOY_TFTP', flag: 'tftp', parse: onOff },
  tftpPort: { env: 'OSDEPLOY_TFTP_PORT', flag: 'tftp-port', parse: port },
  tftpEngine: {
    env: 'OSDEPLOY_TFTP_ENGINE',
    flag: 'tftp-engine',
    parse: (r, w) => {
      const s = text(r, w);
      if (s !== 'auto' && s !== 'native' && s !== 'js') throw new ConfigError(`${w} must be auto, native or js`);
      return s;
    },
  },
  advertiseAddress: { env: 'OSDEPLOY_ADVERTISE_ADDRESS', flag: 'advertise-address', parse: ipv4 },
  secretKey: {
    env: 'OSDEPLOY_SECRET_KEY',
    flag: null,
    parse: (r, w) => {
      // Never echo the value: it is the key.
      const key = typeof r === 'string' ? parseKeyText(r) : null;
      if (!key) throw new ConfigError(`${w} must be ${KEY_FORMS}`);
      return new SecretKey(key);
    },
  },
  secretKeyFile: { env: 'OSDEPLOY_SECRET_KEY_FILE', flag: 'secret-key-file', parse: (r, w) => path.resolve(text(r, w)) },
  databaseUrl: {
    env: 'OSDEPLOY_DATABASE_URL',
    flag: 'database-url',
    parse: (r, w) => {
      const value = text(r, w);
      try {
        storeTargetOf(value);
      } catch (e) {
        throw new ConfigError(`${w}: ${(e as Error).message}`);
      }
      return value;
    },
  },
};

export const DEFAULTS: Config = {
  dataDir: path.resolve('data'),
  httpPort: 8080,
  bind: '0.0.0.0',
  siteCode: 'PS1',
  logLevel: 'info',
  publicUrl: null,
  pxe: 'on',
  dhcpPort: 67,
  pxePort: 4011,
  tftp: 'on',
  tftpPort: 69,
  tftpEngine: 'auto',
  advertiseAddress: null,
  secretKey: null,
  secretKeyFile: null,
  databaseUrl: null,
};

/** Variables this program reads that are not config keys (so they are not "unknown"). */
const OTHER_ENV = new Set(['OSDEPLOY_CONFIG', 'OSDEPLOY_SERVER', 'OSDEPLOY_TOKEN']);

export interface ConfigSources {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by flag name (`data-dir`), as parsed from argv. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** Path of a JSON file; also taken from OSDEPLOY_CONFIG. */
  readonly file?: string;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const flags = sources.flags ?? {};
  const merged: Record<string, unknown> = { ...DEFAULTS };
  const keys = Object.keys(CONFIG_KEYS) as Key[];

  const file = sources.file ?? env.OSDEPLOY_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new ConfigError(`config file ${file}: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`config file ${file} must hold a JSON object`);
    for (const [k, v] of Object.entries(parsed)) {
      if (!keys.includes(k as Key)) throw new ConfigError(`config file ${file}: unknown key "${k}"; known keys: ${keys.join(', ')}`);
      if (CONFIG_KEYS[k as Key].flag === null) throw new ConfigError(`config file ${file}: ${k} can only be given by ${CONFIG_KEYS[k as Key].env} (or keep it in a file named by secretKeyFile)`);
      merged[k] = CONFIG_KEYS[k as Key].parse(v, `config file ${file}: ${k}`);
    }
  }
  const knownEnv = new Set(keys.map((k) => CONFIG_KEYS[k].env));
  for (const name of Object.keys(env)) {
    if (name.startsWith('OSDEPLOY_') && !knownEnv.has(name) && !OTHER_ENV.has(name))
      throw new ConfigError(`unknown environment variable ${name}; known: ${[...knownEnv, ...OTHER_ENV].join(', ')}`);
  }
  for (const k of keys) {
    const raw = env[CONFIG_KEYS[k].env];
    if (raw !== undefined && raw !== '') merged[k] = CONFIG_KEYS[k].parse(raw, CONFIG_KEYS[k].env);
  }
  const knownFlags = new Set(keys.map((k) => CONFIG_KEYS[k].flag).filter((f) => f !== null));
  for (const [flag, raw] of Object.entries(flags)) {
    if (raw === undefined) continue;
    if (!knownFlags.has(flag)) throw new ConfigError(`unknown option --${flag}`);
    const key = keys.find((k) => CONFIG_KEYS[k].flag === flag)!;
    merged[key] = CONFIG_KEYS[key].parse(raw, `--${flag}`);
  }
  if (merged.secretKey && merged.secretKeyFile) throw new ConfigError('give the secret key one way: OSDEPLOY_SECRET_KEY or OSDEPLOY_SECRET_KEY_FILE (--secret-key-file), not both');
  return Object.freeze(merged as unknown as Config);
}

/** The address given to clients (boot scripts, media): the configured public URL or one derived from the bind address. */
export function publicUrlOf(config: Config, boundPort: number, advertise: string | null = config.advertiseAddress): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.bind === '0.0.0.0' || config.bind === '::' ? (advertise ?? '127.0.0.1') : config.bind;
  return `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
}
