/**
 * Input normalisation (DESIGN.md lesson 6): every identity is brought to one canonical
 * spelling on load so that lookups are plain string comparisons.
 */
import { invalid } from './errors.js';

const MAC_HEX = /^[0-9a-f]{12}$/;

/** `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff`, `AABBCCDDEEFF` → `aa:bb:cc:dd:ee:ff`. */
export function normalizeMac(input: string): string {
  const hex = input.trim().toLowerCase().replace(/[:\-.\s]/g, '');
  if (!MAC_HEX.test(hex)) throw invalid(`not a MAC address: ${JSON.stringify(input)}`, 'macAddress');
  return hex.match(/../g)!.join(':');
}

export function tryNormalizeMac(input: string): string | null {
  try {
    return normalizeMac(input);
  } catch {
    return null;
  }
}

const UUID_HEX = /^[0-9a-f]{32}$/;
/** Values firmware reports when it has no real UUID; they identify nothing. */
const PLACEHOLDER_UUIDS = new Set(['0'.repeat(32), 'f'.repeat(32)]);

/**
 * SMBIOS UUID in canonical lower-case 8-4-4-4-12 form. Braces, missing dashes and upper
 * case are accepted. All-zero and all-FF UUIDs (common on cheap boards) are refused: they
 * would make every such machine the same computer.
 */
export function normalizeUuid(input: string): string {
  const hex = input.trim().toLowerCase().replace(/^\{|\}$/g, '').replace(/-/g, '');
  if (!UUID_HEX.test(hex)) throw invalid(`not an SMBIOS UUID: ${JSON.stringify(input)}`, 'smbiosUuid');
  if (PLACEHOLDER_UUIDS.has(hex)) throw invalid(`placeholder SMBIOS UUID is not an identity: ${input}`, 'smbiosUuid');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function tryNormalizeUuid(input: string): string | null {
  try {
    return normalizeUuid(input);
  } catch {
    return null;
  }
}

/** Free-text names: trimmed, 1..256 characters, no control characters. */
export function normalizeName(input: string, field = 'name', max = 256): string {
  const name = input.trim();
  if (name.length === 0) throw invalid(`${field} must not be empty`, field);
  if (name.length > max) throw invalid(`${field} is longer than ${max} characters`, field);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid(`${field} contains control characters`, field);
  return name;
}
