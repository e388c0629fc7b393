/**
 * Computers: known by MAC addresses and SMBIOS UUID. Three built-in Unknown Computer
 * objects, one per architecture, stand for machines that match no record.
 */
import { ARCHITECTURES, type Architecture } from './content-refs.js';
import { invalid } from './errors.js';
import { normalizeMac, normalizeName, normalizeUuid } from './normalize.js';
import { validateVariables, type Variable } from './variables.js';

export interface Computer {
  readonly id: string;
  readonly name: string;
  /** Normalised `aa:bb:cc:dd:ee:ff`, unique within the list. */
  readonly macAddresses: readonly string[];
  readonly smbiosUuid: string | null;
  readonly architecture: Architecture | null;
  /** Holds a site system role: R-10 blocks or warns for collections with it. */
  readonly isSiteSystem: boolean;
  /** A server OS: R-10 can warn for collections with servers. */
  readonly isServer: boolean;
  /** Set only on the built-in Unknown Computer objects. */
  readonly unknownArchitecture: Architecture | null;
  readonly variables: readonly Variable[];
}

/** Built-in object ids, after Configuration Manager's x86/x64 Unknown Computer objects. */
export const UNKNOWN_COMPUTER_IDS: Readonly<Record<Architecture, string>> = {
  x86: 'unknown-x86',
  x64: 'unknown-x64',
  arm64: 'unknown-arm64',
};

export const UNKNOWN_COMPUTER_NAMES: Readonly<Record<Architecture, string>> = {
  x86: 'x86 Unknown Computer (x86 Unknown Computer)',
  x64: 'x64 Unknown Computer (x64 Unknown Computer)',
  arm64: 'ARM64 Unknown Computer (ARM64 Unknown Computer)',
};

export function unknownComputers(): Computer[] {
  return ARCHITECTURES.map((arch) => ({
    id: UNKNOWN_COMPUTER_IDS[arch],
    name: UNKNOWN_COMPUTER_NAMES[arch],
    macAddresses: [],
    smbiosUuid: null,
    architecture: arch,
    isSiteSystem: false,
    isServer: false,
    unknownArchitecture: arch,
    variables: [],
  }));
}

export interface ComputerInput {
  readonly name: string;
  readonly macAddresses?: readonly string[];
  readonly smbiosUuid?: string | null;
  readonly architecture?: Architecture | null;
  readonly isSiteSystem?: boolean;
  readonly isServer?: boolean;
  readonly variables?: unknown;
}

export function validateArchitecture(v: unknown, field = 'architecture'): Architecture {
  if (!ARCHITECTURES.includes(v as Architecture)) throw invalid(`${field} must be one of ${ARCHITECTURES.join(', ')}`, field);
  return v as Architecture;
}

/** A computer needs a name and at least one identity (a MAC address or an SMBIOS UUID). */
export function newComputer(id: string, input: ComputerInput): Computer {
  const name = normalizeName(String(input.name ?? ''));
  if (input.macAddresses !== undefined && !Array.isArray(input.macAddresses)) throw invalid('macAddresses must be a list', 'macAddresses');
  const macs = [...new Set((input.macAddresses ?? []).map((m, i) => {
    if (typeof m !== 'string') throw invalid(`macAddresses[${i}] must be text`, `macAddresses[${i}]`);
    return normalizeMac(m);
  }))];
  if (macs.length > 32) throw invalid('at most 32 MAC addresses per computer', 'macAddresses');
  const smbiosUuid = input.smbiosUuid == null || input.smbiosUuid === '' ? null : normalizeUuid(String(input.smbiosUuid));
  if (macs.length === 0 && smbiosUuid === null) throw invalid('a computer needs a MAC address or an SMBIOS UUID', 'macAddresses');
  const bool = (v: unknown, f: string) => {
    if (v !== undefined && typeof v !== 'boolean') throw invalid(`${f} must be true or false`, f);
    return v === true;
  };
  return {
    id,
    name,
    macAddresses: macs,
    smbiosUuid,
    architecture: input.architecture == null ? null : validateArchitecture(input.architecture),
    isSiteSystem: bool(input.isSiteSystem, 'isSiteSystem'),
    isServer: bool(input.isServer, 'isServer'),
    unknownArchitecture: null,
    variables: input.variables === undefined ? [] : validateVariables(input.variables, 'variables'),
  };
}
