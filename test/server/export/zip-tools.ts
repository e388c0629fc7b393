/**
 * Builds hostile export archives for the R-32 tests. yazl refuses hostile names, so an archive
 * is written with a harmless stand-in name of the same length and the name's bytes are then
 * replaced in the local header and the central directory. Central-directory fields (sizes,
 * flags) are patched in place, independently of the code under test.
 */
import { createHash } from 'node:crypto';
import yazl from 'yazl';
import type { Json } from '../../fixtures/api-harness.js';

export interface Entry {
  readonly name: string;
  readonly data: Buffer;
}

/** A zip of `entries`, in order, deflated. */
export function zipOf(entries: readonly Entry[], opts: { forceZip64?: boolean } = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(e.data, e.name, { mtime: new Date(Date.UTC(2026, 0, 1)), forceZip64Format: opts.forceZip64 === true });
  zip.end({ forceZip64Format: opts.forceZip64 === true, comment: '' });
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** Replaces every occurrence of `from` by `to` (same length: offsets must not move). */
export function rename(zip: Buffer, from: string, to: string): Buffer {
  const a = Buffer.from(from);
  const b = Buffer.from(to, 'latin1');
  if (a.length !== b.length) throw new Error('rename needs names of equal length');
  const out = Buffer.from(zip);
  let at = out.indexOf(a);
  let n = 0;
  for (; at >= 0; at = out.indexOf(a, at + 1), n++) b.copy(out, at);
  if (n === 0) throw new Error(`${from} not in the zip`);
  return out;
}

/** Offsets of the central-directory records, by name. */
function centralRecords(zip: Buffer): Map<string, number> {
  const out = new Map<string, number>();
  for (let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0; at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 4)) {
    const nameLength = zip.readUInt16LE(at + 28);
    out.set(zip.subarray(at + 46, at + 46 + nameLength).toString('latin1'), at);
  }
  return out;
}

/** Sets a 32-bit central-directory field of entry `name`: 8 = flags (16 bit), 24 = uncompressed size. */
export function patchCentral(zip: Buffer, name: string, field: 'uncompressedSize' | 'flags', value: number): Buffer {
  const out = Buffer.from(zip);
  const at = centralRecords(out).get(name);
  if (at === undefined) throw new Error(`no central record for ${name}`);
  if (field === 'flags') out.writeUInt16LE(value, at + 8);
  else out.writeUInt32LE(value, at + 24);
  return out;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Rebuilds an export with `edit` applied to its entries; object entries the edit changed get
 * their sha256 and size fixed in the manifest, so only the change itself is under test.
 */
export async function rewrite(entries: ReadonlyMap<string, Buffer>, edit: (docs: Map<string, Json>) => void, opts: { fixHashes?: boolean } = {}): Promise<Buffer> {
  const docs = new Map<string, Json>([...entries].map(([k, v]) => [k, JSON.parse(v.toString())]));
  edit(docs);
  const manifest = docs.get('manifest.json') as { objects: { entry: string; sha256: string; size: number }[] };
  const out: Entry[] = [];
  for (const [name, doc] of docs) {
    if (name === 'manifest.json') continue;
    const data = Buffer.from(JSON.stringify(doc, null, 2) + '\n');
    const listed = manifest.objects.find((o) => o.entry === name);
    if (listed && opts.fixHashes !== false) Object.assign(listed, { sha256: sha256(data), size: data.length });
    out.push({ name, data });
  }
  return zipOf([{ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) }, ...out]);
}
