/**
 * The engine log (smsts.log's counterpart): timestamped lines to stderr and to
 * `<state>/engine.log`. Every line passes through the secret mask first, so a hidden variable
 * or a step password that reaches a message never reaches a log.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { maskSecrets } from './variables.js';

export class EngineLog {
  private secrets: readonly string[] = [];

  constructor(
    private readonly file: string | null,
    private readonly now: () => number = Date.now,
    private readonly echo: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {
    if (file) mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }

  /** Replaces the set of values to mask (variables change as steps run). */
  mask(secrets: readonly string[]): void {
    this.secrets = secrets;
  }

  clean(text: string): string {
    return maskSecrets(text, this.secrets);
  }

  readonly line = (text: string): void => {
    const l = `${new Date(this.now()).toISOString()} ${this.clean(text)}`;
    this.echo(l);
    if (this.file) appendFileSync(this.file, `${l}\n`, { mode: 0o600 });
  };
}
