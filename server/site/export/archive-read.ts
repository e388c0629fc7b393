/**
 * Reads an export .zip (yauzl, one entry at a time with `lazyEntries`) as hostile input.
 * An export holds only `manifest.json` and `objects/<key>.json`, so every other name is refused
 * — and names that try to escape (zip slip: `..`, absolute, `\`, drive letters, NUL) are refused
 * with that reason first. Sizes are capped per entry and in total and compression ratios are
 * bounded, from the central directory AND while inflating: a header can lie, the bytes cannot.
 * Duplicate names (case-insensitively: they would collide on Windows), encrypted or unknown
 * compression, and too many entries are refused. The result is entry name → bytes.
 */
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { invalid, type PolicyError } from '../../../policy/errors.js';
import { KEY_PATTERN, MANIFEST_ENTRY, MAX_OBJECTS } from './manifest.js';

export interface ArchiveLimits {
  readonly maxEntries: number;
  /** Uncompressed bytes of one entry. */
  readonly maxEntryBytes: number;
  /** Uncompressed bytes of all entries together. */
  readonly maxTotalBytes: number;
  /** Uncompressed / compressed, checked once an entry is past `ratioFloor` bytes. */
  readonly maxRatio: number;
  readonly ratioFloor: number;
}

/** JSON only: generous for thousands of large task sequences, far below what hurts the service. */
export const DEFAULT_LIMITS: ArchiveLimits = {
  maxEntries: MAX_OBJECTS + 2,
  maxEntryBytes: 32 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  // Deflate tops out near 1032:1; real task sequence JSON compresses about 5–20:1.
  maxRatio: 200,
  ratioFloor: 1024 * 1024,
};

const OBJECT_ENTRY = new RegExp(`^objects/(${KEY_PATTERN.source.slice(1, -1)})\\.json$`);
const UTF8_FLAG = 0x800;

const refuse = (what: string): PolicyError => invalid(`export file refused: ${what}`, 'archive', 'R-32');

/** Why a name is hostile, or null. Checked before the allow-list so the reason is the real one. */
export function hostileName(name: string): string | null {
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'uses backslashes (a Windows path that can escape the folder)';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter (an absolute Windows path)';
  if (name.startsWith('/')) return 'is an absolute path';
  if (name.split('/').includes('..')) return "contains '..' and would escape the folder (zip slip)";
  return null;
}

function decodeName(entry: Entry): string {
  const raw = entry.fileNameRaw;
  const asText = raw.toString(entry.generalPurposeBitFlag & UTF8_FLAG ? 'utf8' : 'latin1');
  // Without the UTF-8 flag a name is CP437; ours are ASCII, and anything else is not ours.
  if (!(entry.generalPurposeBitFlag & UTF8_FLAG) && /[^\x20-\x7e]/.test(asText)) throw refuse(`entry ${JSON.stringify(asText.slice(0, 120))} has a non-ASCII name without the UTF-8 flag`);
  if (entry.generalPurposeBitFlag & UTF8_FLAG && !Buffer.from(asText, 'utf8').equals(raw)) throw refuse('an entry name is not valid UTF-8');
  return asText;
}

interface Totals {
  declared: number;
  readonly seen: Set<string>;
}

/** Checks one central-directory record; returns false for a directory entry to skip. */
function checkEntry(entry: Entry, name: string, limits: ArchiveLimits, totals: Totals): boolean {
  const shown = JSON.stringify(name.slice(0, 200));
  const hostile = hostileName(name);
  if (hostile) throw refuse(`entry ${shown} ${hostile}`);
  const folded = name.toLowerCase();
  if (totals.seen.has(folded)) throw refuse(`entry ${shown} appears twice`);
  totals.seen.add(folded);
  if (name === 'objects/') return false;
  if (name !== MANIFEST_ENTRY && !OBJECT_ENTRY.test(name)) throw refuse(`unexpected entry ${shown}; an export holds only ${MANIFEST_ENTRY} and objects/<key>.json`);
  if (entry.isEncrypted()) throw refuse(`entry ${shown} is encrypted`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw refuse(`entry ${shown} uses compression method ${entry.compressionMethod}; only stored and deflate are read`);
  if (entry.uncompressedSize > limits.maxEntryBytes) throw refuse(`entry ${shown} is ${entry.uncompressedSize} bytes; at most ${limits.maxEntryBytes} are allowed`);
  totals.declared += entry.uncompressedSize;
  if (totals.declared > limits.maxTotalBytes) throw refuse(`the entries add up to more than ${limits.maxTotalBytes} bytes`);
  if (entry.uncompressedSize > limits.ratioFloor && entry.uncompressedSize / Math.max(entry.compressedSize, 1) > limits.maxRatio)
    throw refuse(`entry ${shown} claims a compression ratio above ${limits.maxRatio}:1 (a zip bomb?)`);
  return true;
}

/**
 * Reads one entry's bytes. Every cap and the ratio were checked against the size the central
 * directory declares; holding the inflating stream to that size enforces them all on the real
 * bytes, and stops a lying header after one chunk past its claim instead of at the bomb's end.
 */
async function readEntry(stream: Readable, entry: Entry, name: string): Promise<Buffer> {
  const shown = JSON.stringify(name);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      size += bytes.length;
      if (size > entry.uncompressedSize) throw refuse(`entry ${shown} inflates to more than the ${entry.uncompressedSize} bytes its header declares (a zip bomb?)`);
      chunks.push(bytes);
    }
  } catch (e) {
    stream.destroy();
    if ((e as { rule?: string }).rule === 'R-32') throw e;
    throw refuse(`entry ${shown} is corrupt (${(e as Error).message})`);
  }
  if (size !== entry.uncompressedSize) throw refuse(`entry ${shown} is truncated: ${size} of ${entry.uncompressedSize} bytes`);
  return Buffer.concat(chunks, size);
}

function open(file: string): Promise<ZipFile> {
  // decodeStrings false: we decode and judge names ourselves (yauzl would rewrite `\` to `/`).
  // validateEntrySizes false: readEntry checks sizes itself, with a message that says why.
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: false }, (err, zip) => {
      if (err) reject(refuse(`not a readable .zip file (${err.message})`));
      else resolve(zip);
    }),
  );
}

/** All entries of `file`, checked; throws `invalid` (field `archive`, rule R-32) on anything hostile. */
export async function readArchive(file: string, limits: ArchiveLimits = DEFAULT_LIMITS): Promise<Map<string, Buffer>> {
  const zip = await open(file);
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw refuse(`it holds ${zip.entryCount} entries; at most ${limits.maxEntries} are allowed`);
  }
  const out = new Map<string, Buffer>();
  const totals: Totals = { declared: 0, seen: new Set() };
  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) => reject(e instanceof Error && (e as { rule?: string }).rule === 'R-32' ? e : refuse(`the .zip is corrupt (${(e as Error).message})`));
      zip.on('error', fail);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: Entry) => {
        (async () => {
          const name = decodeName(entry);
          if (checkEntry(entry, name, limits, totals)) {
            const stream = await zip.openReadStreamPromise(entry);
            out.set(name, await readEntry(stream, entry, name));
          }
          zip.readEntry();
        })().catch(fail);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return out;
}
