/**
 * What every admin command shares: the global options (--server, --token, --json), the API
 * client they select, output (JSON or text for people), option parsers, and the one place
 * errors become `osdeploy: <message> (field X, rule R-xx)` on stderr with exit code 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient, ApiError, ConnectionError } from './api-client.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:8080';
export const TOKEN_FILE = './data/admin.token';

export type Opts = Record<string, unknown>;

export interface Run {
  readonly api: ApiClient;
  readonly json: boolean;
  readonly opts: Opts;
  readonly args: readonly string[];
}

/** A mistake the CLI itself finds (a bad file, a missing flag): printed like an API error. */
export class CliError extends Error {}

/** A noun: `osdeploy computers …`. */
export const noun = (program: Command, name: string, description: string): Command => program.command(name).description(description);

/** A verb under a noun, with the global options and error handling; add its own options to the result. */
export function verb(parent: Command, nameAndArgs: string, description: string, handler: (run: Run) => Promise<void>): Command {
  return parent
    .command(nameAndArgs)
    .description(description)
    .option('--server <url>', `server URL (env OSDEPLOY_SERVER, default ${DEFAULT_SERVER})`)
    .option('--token <token>', `API token (env OSDEPLOY_TOKEN, else ${TOKEN_FILE})`)
    .option('--json', 'print the raw JSON response')
    .action(async function (this: Command) {
      const opts = this.opts<Opts>();
      try {
        await handler({ api: clientFor(opts), json: opts.json === true, opts, args: this.processedArgs as string[] });
      } catch (e) {
        console.error(describeError(e));
        process.exitCode = 1;
      }
    });
}

function clientFor(opts: Opts): ApiClient {
  const server = (opts.server as string | undefined) ?? process.env.OSDEPLOY_SERVER ?? DEFAULT_SERVER;
  return new ApiClient(server, (opts.token as string | undefined) ?? (process.env.OSDEPLOY_TOKEN || undefined) ?? tokenFromFile());
}

function tokenFromFile(): string | undefined {
  if (!existsSync(TOKEN_FILE)) return undefined;
  return readFileSync(TOKEN_FILE, 'utf8').trim() || undefined;
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const where = [e.body.field ? `field ${e.body.field}` : '', e.body.rule ? `rule ${e.body.rule}` : ''].filter(Boolean).join(', ');
    const hint = e.status === 401 ? `; give a token with --token, OSDEPLOY_TOKEN or ${TOKEN_FILE}` : '';
    return `osdeploy: ${e.body.message}${hint}${where ? ` (${where})` : ''}`;
  }
  if (e instanceof ConnectionError || e instanceof CliError) return `osdeploy: ${e.message}`;
  return `osdeploy: ${(e as Error).message ?? String(e)}`;
}

/** Prints the response as JSON with --json, else as `human` renders it. */
export function show<T>(run: Run, data: T, human: (data: T) => string): void {
  if (run.json) {
    if (data !== null && data !== undefined) console.log(JSON.stringify(data, null, 2));
    return;
  }
  const text = human(data);
  if (text) console.log(text);
}

/** An id as one URL path segment. */
export const enc = (id: string | undefined): string => encodeURIComponent(id ?? '');

// ---- option parsers ----

/** A repeatable option: `--mac A --mac B`. */
export const many = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** A repeatable option of ids that also takes comma-separated lists: `--member 1,2 --member 3`. */
export const ids = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

export const int =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (value: string): number => {
    if (!/^-?\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`must be a whole number ${min}..${max}`);
    return Number(value);
  };

export const oneOf =
  (values: readonly string[]) =>
  (value: string): string => {
    if (!values.includes(value)) throw new InvalidArgumentError(`must be one of ${values.join(', ')}`);
    return value;
  };

/** `NAME=VALUE`, split at the first `=`. */
export function splitPair(text: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new CliError(`${JSON.stringify(text)} is not NAME=VALUE`);
  return [text.slice(0, at), text.slice(at + 1)];
}

export interface VariableInput {
  readonly name: string;
  readonly value: string;
  readonly hidden: boolean;
}

/** `--var` and `--hidden-var` as the API's variable list, or undefined when neither was given. */
export function variablesOf(opts: Opts): VariableInput[] | undefined {
  const plain = opts.var as string[] | undefined;
  const hidden = opts.hiddenVar as string[] | undefined;
  if (!plain && !hidden) return undefined;
  const vars = (list: string[] | undefined, isHidden: boolean) => (list ?? []).map(splitPair).map(([name, value]) => ({ name, value, hidden: isHidden }));
  return [...vars(plain, false), ...vars(hidden, true)];
}

/** Drops undefined fields so PATCH bodies carry only what was given. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Variables as people may see them: a hidden value never appears (R-23). */
export function variableLines(vars: readonly { name: string; value: string | null; hidden: boolean }[]): string {
  if (vars.length === 0) return 'variables: -';
  const width = Math.max(...vars.map((v) => v.name.length));
  return ['variables:', ...vars.map((v) => `  ${v.name.padEnd(width)}  ${v.hidden ? '(hidden)' : (v.value ?? '')}`)].join('\n');
}
