/**
 * The engine's task sequence variables: names compare case-insensitively, the
 * built-ins (`_SMSTS…`) are read-only to steps, and secret values (hidden variables, values a
 * step hid) are masked wherever text leaves the engine: logs, status, files it writes.
 */
import type { VariableLookup } from '../../policy/task-sequences/conditions.js';

export interface VariableEntry {
  readonly name: string;
  readonly value: string;
  readonly secret: boolean;
}

export const MASK = '********';

export class ReadOnlyVariableError extends Error {}

export class Variables {
  private readonly map = new Map<string, VariableEntry>();

  constructor(entries: Iterable<VariableEntry> = []) {
    for (const e of entries) this.map.set(e.name.toLowerCase(), { ...e });
  }

  /**
   * R-24 merge order: media variables, then the site's collection and computer variables
   * (already merged by the site, R-23), then the built-ins, which nothing overrides.
   */
  static merged(media: Readonly<Record<string, string>>, site: readonly { name: string; value: string | null; hidden: boolean }[], builtIns: Readonly<Record<string, string>>): Variables {
    const v = new Variables();
    for (const [name, value] of Object.entries(media)) v.map.set(name.toLowerCase(), { name, value, secret: false });
    for (const s of site) v.map.set(s.name.toLowerCase(), { name: s.name, value: s.value ?? '', secret: s.hidden });
    for (const [name, value] of Object.entries(builtIns)) v.setBuiltIn(name, value);
    return v;
  }

  get(name: string): string | undefined {
    return this.map.get(name.toLowerCase())?.value;
  }

  /** For evaluateCondition, which passes lower-cased names. */
  readonly lookup: VariableLookup = (lower) => this.map.get(lower)?.value;

  /** A step sets a variable; the built-ins belong to the engine. */
  set(name: string, value: string, secret = false): void {
    if (name.startsWith('_')) throw new ReadOnlyVariableError(`${name} is a read-only built-in variable (R-24)`);
    const prev = this.map.get(name.toLowerCase());
    // A hidden value stays hidden when a step overwrites it without saying otherwise.
    this.map.set(name.toLowerCase(), { name: prev?.name ?? name, value, secret: secret || (prev?.secret ?? false) });
  }

  setBuiltIn(name: string, value: string): void {
    this.map.set(name.toLowerCase(), { name, value, secret: false });
  }

  entries(): VariableEntry[] {
    return [...this.map.values()];
  }

  /** Values never to show; very short ones would mask ordinary text and protect nothing. */
  secretValues(): string[] {
    return this.entries()
      .filter((e) => e.secret && e.value.length >= 3)
      .map((e) => e.value);
  }

  /** `%name%` becomes the variable's value; an unknown name is left as written, as Configuration Manager does. */
  expand(text: string): string {
    return text.replace(/%([A-Za-z0-9_.-]{1,256})%/g, (whole, name: string) => this.get(name) ?? whole);
  }
}

/** Replaces every secret in `text` by a mask, longest first so one secret inside another is covered. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].filter((x) => x.length > 0).sort((a, b) => b.length - a.length)) out = out.split(s).join(MASK);
  return out;
}
