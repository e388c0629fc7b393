/** loadConfig: defaults < file < env < flags, strict keys, clear errors naming their source; publicUrlOf. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ConfigError, CONFIG_KEYS, DEFAULTS, loadConfig, publicUrlOf, type Config } from '../../server/config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'osdeploy-config-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const jsonFile = (content: unknown): string => {
  const file = path.join(dir, `config-${++files}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};

/** Asserts a ConfigError whose message matches every pattern. */
function refuses(t: Test, fn: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  t.ok(caught instanceof ConfigError, 'a ConfigError', { found: caught });
  t.equal((caught as Error | undefined)?.name, 'ConfigError');
  for (const p of patterns) t.match((caught as Error | undefined)?.message ?? '', p);
}

t.test('defaults', async (t) => {
  const c = loadConfig();
  t.same(c, DEFAULTS);
  t.match(c, { dataDir: path.resolve('data'), httpPort: 8080, bind: '0.0.0.0', siteCode: 'PS1', logLevel: 'info', publicUrl: null });
  t.same(Object.keys(c).sort(), Object.keys(CONFIG_KEYS).sort(), 'one default for every key');
  t.ok(path.isAbsolute(c.dataDir), 'dataDir is absolute');
  t.same(loadConfig({ env: {}, flags: {} }), DEFAULTS, 'empty sources give the defaults');
  t.same(loadConfig({ env: { PATH: '/bin', HOME: '/root', NODE_ENV: 'production' } }), DEFAULTS, 'variables without the OSDEPLOY_ prefix are not ours');
});

t.test('the environment overrides the defaults', async (t) => {
  const c = loadConfig({
    env: {
      OSDEPLOY_DATA_DIR: 'var/osd',
      OSDEPLOY_HTTP_PORT: '9090',
      OSDEPLOY_BIND: '127.0.0.1',
      OSDEPLOY_SITE_CODE: 'ab2',
      OSDEPLOY_LOG_LEVEL: 'debug',
      OSDEPLOY_PUBLIC_URL: 'https://osd.example.net:8443/',
    },
  });
  t.same(c, {
    ...DEFAULTS,
    dataDir: path.resolve('var/osd'),
    httpPort: 9090,
    bind: '127.0.0.1',
    siteCode: 'AB2',
    logLevel: 'debug',
    publicUrl: 'https://osd.example.net:8443',
  });
  t.same(loadConfig({ env: { OSDEPLOY_HTTP_PORT: '', OSDEPLOY_BIND: undefined } }), DEFAULTS, 'empty and undefined variables are ignored');
  t.same(
    loadConfig({ env: { OSDEPLOY_SERVER: 'http://x:1', OSDEPLOY_TOKEN: 'osd_x' } }),
    DEFAULTS,
    'the CLI client variables are known, not config keys',
  );
});

t.test('flags override the environment', async (t) => {
  const c = loadConfig({
    env: { OSDEPLOY_HTTP_PORT: '9090', OSDEPLOY_BIND: '127.0.0.1', OSDEPLOY_LOG_LEVEL: 'debug' },
    flags: { 'http-port': '7070', bind: '::1', 'data-dir': '/srv/osdeploy', 'site-code': undefined },
  });
  t.equal(c.httpPort, 7070);
  t.equal(c.bind, '::1');
  t.equal(c.dataDir, '/srv/osdeploy');
  t.equal(c.logLevel, 'debug', 'what no flag sets comes from the environment');
  t.equal(c.siteCode, 'PS1', 'an undefined flag is not given');
  t.same(loadConfig({ flags: { 'http-port': '0' } }).httpPort, 0, 'port 0 (any free port) is allowed');
});

t.test('a JSON file, by `file` or OSDEPLOY_CONFIG, under env and flags', async (t) => {
  const file = jsonFile({ dataDir: '/srv/from-file', httpPort: 8181, bind: '10.0.0.5', siteCode: 'fil', logLevel: 'warn', publicUrl: 'http://10.0.0.5:8181' });
  const fromFile = { ...DEFAULTS, dataDir: '/srv/from-file', httpPort: 8181, bind: '10.0.0.5', siteCode: 'FIL', logLevel: 'warn', publicUrl: 'http://10.0.0.5:8181' };
  t.same(loadConfig({ file }), fromFile, 'file values over the defaults');
  t.same(loadConfig({ env: { OSDEPLOY_CONFIG: file } }), fromFile, 'OSDEPLOY_CONFIG names the file');
  const layered = loadConfig({ env: { OSDEPLOY_CONFIG: file, OSDEPLOY_HTTP_PORT: '9000', OSDEPLOY_SITE_CODE: 'ENV' }, flags: { 'http-port': '9001' } });
  t.same(layered, { ...fromFile, httpPort: 9001, siteCode: 'ENV' }, 'file < env < flags');

  const other = jsonFile({ httpPort: 1234 });
  t.equal(loadConfig({ file: other, env: { OSDEPLOY_CONFIG: file } }).httpPort, 1234, '`file` (--config) wins over OSDEPLOY_CONFIG');
  t.same(loadConfig({ file: other }), { ...DEFAULTS, httpPort: 1234 }, 'a partial file keeps the other defaults');
  t.same(loadConfig({ file: jsonFile({}) }), DEFAULTS, 'an empty object is fine');
});

t.test('an unknown key in the file is refused by name', async (t) => {
  const file = jsonFile({ httpPort: 8080, htpPort: 8081 });
  refuses(t, () => loadConfig({ file }), /unknown key "htpPort"/, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), /known keys: dataDir, httpPort/);
  refuses(t, () => loadConfig({ file: jsonFile({ ['__proto__']: { httpPort: 1 } }) }), /unknown key "__proto__"/);
});

t.test('unreadable, malformed and non-object files', async (t) => {
  refuses(t, () => loadConfig({ file: path.join(dir, 'missing.json') }), /config file .*missing\.json/, /ENOENT/);
  refuses(t, () => loadConfig({ file: jsonFile('{"httpPort": 80,') }), /config file .*config-\d+\.json: /);
  refuses(t, () => loadConfig({ file: jsonFile([1, 2]) }), /must hold a JSON object/);
  refuses(t, () => loadConfig({ file: jsonFile('null') }), /must hold a JSON object/);
  refuses(t, () => loadConfig({ env: { OSDEPLOY_CONFIG: path.join(dir, 'nope.json') } }), /nope\.json/);
});

t.test('an unknown OSDEPLOY_ variable is refused by name', async (t) => {
  refuses(t, () => loadConfig({ env: { OSDEPLOY_HTTPPORT: '80' } }), /unknown environment variable OSDEPLOY_HTTPPORT/, /known: OSDEPLOY_DATA_DIR/);
  refuses(t, () => loadConfig({ env: { OSDEPLOY_BOGUS: '1' } }), /OSDEPLOY_BOGUS/);
  refuses(t, () => loadConfig({ env: { OSDEPLOY_BOGUS: '' } }), /OSDEPLOY_BOGUS/); // even when empty
});

t.test('an unknown flag is refused', async (t) => {
  refuses(t, () => loadConfig({ flags: { port: '80' } }), /unknown option --port/);
});

t.test('bad values name their source', async (t) => {
  const cases: [string, () => unknown, RegExp[]][] = [
    ['port from env', () => loadConfig({ env: { OSDEPLOY_HTTP_PORT: '80x' } }), [/^OSDEPLOY_HTTP_PORT must be a port number 0\.\.65535 \(got "80x"\)$/]],
    ['port too big from env', () => loadConfig({ env: { OSDEPLOY_HTTP_PORT: '65536' } }), [/OSDEPLOY_HTTP_PORT/, /65536/]],
    ['negative port from flag', () => loadConfig({ flags: { 'http-port': '-1' } }), [/^--http-port must be a port number/]],
    ['fractional port from flag', () => loadConfig({ flags: { 'http-port': '80.5' } }), [/^--http-port /]],
    ['port as text in the file', () => loadConfig({ file: jsonFile({ httpPort: 'eighty' }) }), [/config file .*: httpPort must be a port number/]],
    ['port too big in the file', () => loadConfig({ file: jsonFile({ httpPort: 70000 }) }), [/: httpPort must be a port number .*70000/]],
    ['site code from env', () => loadConfig({ env: { OSDEPLOY_SITE_CODE: 'PS12' } }), [/^OSDEPLOY_SITE_CODE must be three letters or digits/, /"PS12"/]],
    ['site code from flag', () => loadConfig({ flags: { 'site-code': 'P-1' } }), [/^--site-code must be three letters or digits/]],
    ['site code in the file', () => loadConfig({ file: jsonFile({ siteCode: 12 }) }), [/: siteCode must be a non-empty string/]],
    ['log level from env', () => loadConfig({ env: { OSDEPLOY_LOG_LEVEL: 'verbose' } }), [/^OSDEPLOY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent$/]],
    ['log level from flag', () => loadConfig({ flags: { 'log-level': 'INFO' } }), [/^--log-level must be one of/]],
    ['public URL with a path', () => loadConfig({ flags: { 'public-url': 'http://host:8080/osd' } }), [/^--public-url must be an http\(s\) origin/]],
    ['public URL with another scheme', () => loadConfig({ env: { OSDEPLOY_PUBLIC_URL: 'ftp://host' } }), [/^OSDEPLOY_PUBLIC_URL must be an http\(s\) origin/]],
    ['empty data dir flag', () => loadConfig({ flags: { 'data-dir': '' } }), [/^--data-dir must be a non-empty string$/]],
    ['data dir as a number in the file', () => loadConfig({ file: jsonFile({ dataDir: 5 }) }), [/: dataDir must be a non-empty string/]],
  ];
  for (const [name, fn, patterns] of cases) t.test(name, async (t) => refuses(t, fn, ...patterns));
});

t.test('a flag fixes a bad environment value only if the environment is valid', async (t) => {
  // Every source is validated, so a wrong variable is reported even when a flag would override it.
  refuses(t, () => loadConfig({ env: { OSDEPLOY_HTTP_PORT: 'x' }, flags: { 'http-port': '80' } }), /OSDEPLOY_HTTP_PORT/);
});

t.test('the result is frozen', async (t) => {
  const c = loadConfig({ flags: { 'http-port': '8081' } });
  t.ok(Object.isFrozen(c));
  t.throws(() => {
    (c as { httpPort: number }).httpPort = 1;
  }, TypeError);
  t.equal(c.httpPort, 8081);
  t.ok(Object.isFrozen(loadConfig()), 'the defaults result too');
  t.ok(Object.isFrozen(DEFAULTS) || loadConfig() !== DEFAULTS, 'callers never get the shared DEFAULTS object to mutate');
});

t.test('publicUrlOf', async (t) => {
  const base: Config = loadConfig();
  const with_ = (o: Partial<Config>): Config => ({ ...base, ...o });
  t.equal(publicUrlOf(with_({ publicUrl: 'https://osd.example.net' }), 8080), 'https://osd.example.net', 'the configured URL wins');
  t.equal(publicUrlOf(with_({ bind: '0.0.0.0' }), 8080), 'http://127.0.0.1:8080', 'a wildcard IPv4 bind is told as loopback');
  t.equal(publicUrlOf(with_({ bind: '::' }), 9000), 'http://127.0.0.1:9000', 'a wildcard IPv6 bind too');
  t.equal(publicUrlOf(with_({ bind: '10.1.2.3' }), 8080), 'http://10.1.2.3:8080');
  t.equal(publicUrlOf(with_({ bind: '::1' }), 8080), 'http://[::1]:8080', 'IPv6 literals are bracketed');
  t.equal(publicUrlOf(with_({ bind: 'osd.lan', httpPort: 0 }), 43117), 'http://osd.lan:43117', 'the bound port, not the configured 0');
  t.equal(publicUrlOf(loadConfig({ flags: { 'public-url': 'http://10.0.0.5:8080/' } }), 1), 'http://10.0.0.5:8080', 'trailing slash removed at load');
  t.equal(publicUrlOf(with_({ advertiseAddress: '10.0.0.9' }), 8080), 'http://10.0.0.9:8080', 'a wildcard bind is told as the advertise address');
  t.equal(publicUrlOf(with_({}), 8080, '192.168.1.4'), 'http://192.168.1.4:8080', 'or as the address the caller detected');
  t.equal(publicUrlOf(with_({ bind: '10.1.2.3', advertiseAddress: '10.0.0.9' }), 8080), 'http://10.1.2.3:8080', 'a specific bind address is used as is');
  t.equal(publicUrlOf(with_({ publicUrl: 'https://osd', advertiseAddress: '10.0.0.9' }), 8080), 'https://osd', 'the public URL wins over everything');
});

t.test('boot roles and the advertise address', async (t) => {
  t.match(loadConfig(), { pxe: 'on', tftp: 'on', dhcpPort: 67, pxePort: 4011, tftpPort: 69, advertiseAddress: null });
  for (const [raw, want] of [['on', 'on'], ['OFF', 'off'], ['true', 'on'], ['0', 'off'], ['yes', 'on'], ['no', 'off']] as const)
    t.equal(loadConfig({ env: { OSDEPLOY_PXE: raw } }).pxe, want, `OSDEPLOY_PXE=${raw}`);
  t.equal(loadConfig({ file: jsonFile({ tftp: false }) }).tftp, 'off', 'JSON booleans in the file');
  t.match(loadConfig({ flags: { 'tftp-port': '6969', 'dhcp-port': '1067', 'pxe-port': '14011', 'advertise-address': '10.0.0.5' } }), {
    tftpPort: 6969, dhcpPort: 1067, pxePort: 14011, advertiseAddress: '10.0.0.5',
  });
  refuses(t, () => loadConfig({ flags: { pxe: 'maybe' } }), /^--pxe must be on or off \(got "maybe"\)$/);
  refuses(t, () => loadConfig({ env: { OSDEPLOY_TFTP: 'enabled' } }), /^OSDEPLOY_TFTP must be on or off/);
  refuses(t, () => loadConfig({ env: { OSDEPLOY_TFTP_PORT: '69000' } }), /^OSDEPLOY_TFTP_PORT must be a port number/);
  t.equal(loadConfig().tftpEngine, 'auto', 'the TFTP data path is chosen automatically by default');
  t.equal(loadConfig({ env: { OSDEPLOY_TFTP_ENGINE: 'js' } }).tftpEngine, 'js');
  t.equal(loadConfig({ flags: { 'tftp-engine': 'native' } }).tftpEngine, 'native');
  refuses(t, () => loadConfig({ env: { OSDEPLOY_TFTP_ENGINE: 'fast' } }), /^OSDEPLOY_TFTP_ENGINE must be auto, native or js/);
  for (const bad of ['10.0.0', '10.0.0.256', 'fe80::1', 'host.lan', '1.2.3.4.5'])
    refuses(t, () => loadConfig({ flags: { 'advertise-address': bad } }), /^--advertise-address must be an IPv4 address/);
});
