/**
 * The shape of the step catalog: every step type declares its typed properties and
 * which of them are secrets. Values are plain JSON so they store and export as they are.
 */
import type { ContentKind } from '../content-refs.js';

export type PropertyKind =
  | 'string' // one line of text
  | 'text' // multi-line text (scripts, command lines)
  | 'boolean'
  | 'integer'
  | 'enum' // one of `values`
  | 'string-list'
  | 'integer-list'
  | 'ref' // the id of a content object of `refKind`
  | 'ref-list' // ids of content objects of `refKind`
  | 'assignments'; // a list of { name, value } (Set Dynamic Variables, rules)

export interface PropertyDef {
  readonly name: string;
  readonly label: string;
  readonly kind: PropertyKind;
  readonly required?: boolean;
  /** Passwords and the like: write-only through the API, never exported or logged. */
  readonly secret?: boolean;
  /** For `enum`. */
  readonly values?: readonly string[];
  /** For `ref` and `ref-list`. */
  readonly refKind?: ContentKind;
  /** For `integer` and `integer-list`. */
  readonly min?: number;
  readonly max?: number;
  readonly default?: PropertyValue;
  readonly description?: string;
}

export type StepCategory =
  | 'General'
  | 'Disks'
  | 'User State'
  | 'Images'
  | 'Drivers'
  | 'Settings'
  | 'Software'
  | 'Configuration Manager';

export interface StepTypeDef {
  /** Stable identifier, PascalCase, e.g. `RunCommandLine`. */
  readonly type: string;
  /** The name the editor shows, e.g. `Run Command Line`; also the default step name. */
  readonly displayName: string;
  readonly category: StepCategory;
  readonly description: string;
  readonly properties: readonly PropertyDef[];
  /** The step lays down or upgrades an operating system: makes a task sequence high-risk when Required. */
  readonly deploysOs?: boolean;
  /** The step can only run in Windows PE / the boot image, or only in the full OS. */
  readonly runsIn?: 'bootImage' | 'fullOs' | 'both';
}

export interface Assignment {
  readonly name: string;
  readonly value: string;
}

export type PropertyValue = string | number | boolean | readonly string[] | readonly number[] | readonly Assignment[];

export type StepProperties = Readonly<Record<string, PropertyValue>>;
