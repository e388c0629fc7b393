/**
 * Boot files (iPXE binaries, wimboot) in the boot-file store DATA_DIR/tftproot, served by TFTP
 * and at /boot/… over HTTP. Debian's `ipxe` package ships undionly.kpxe, ipxe.efi and
 * snponly.efi in /usr/lib/ipxe; `osdeploy boot-files import DIR` copies them in, checking each
 * copy against the source's sha256, and records the hashes in manifest.json.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';

/** Network boot programs and helpers we know how to use, by the name PXE replies give. */
export const BOOT_FILE_NAMES = ['undionly.kpxe', 'ipxe.efi', 'snponly.efi', 'ipxe-arm64.efi', 'snponly-arm64.efi', 'wimboot'] as const;
export const DEBIAN_IPXE_DIR = '/usr/lib/ipxe';

export interface BootFileRecord {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly source: string;
}

export const bootFileRoot = (dataDir: string): string => path.join(dataDir, 'tftproot');

async function sha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function readManifest(root: string): Record<string, BootFileRecord> {
  const file = path.join(root, 'manifest.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, BootFileRecord>;
  } catch {
    return {};
  }
}

/** Copies every known boot file found in `fromDir` (or the files named) into the store. */
export async function importBootFiles(fromDir: string, dataDir: string, names: readonly string[] = BOOT_FILE_NAMES): Promise<BootFileRecord[]> {
  const root = bootFileRoot(dataDir);
  mkdirSync(root, { recursive: true });
  const manifest = readManifest(root);
  const imported: BootFileRecord[] = [];
  for (const name of names) {
    const src = path.join(fromDir, name);
    if (!existsSync(src) || !statSync(src).isFile()) continue;
    const expected = await sha256(src);
    const tmp = path.join(root, `.${name}.importing`);
    await copyFile(src, tmp);
    const got = await sha256(tmp);
    if (got !== expected) throw new Error(`copy of ${src} does not match its sha256 (${got} ≠ ${expected})`);
    renameSync(tmp, path.join(root, name));
    const record = { name, size: statSync(src).size, sha256: expected, source: src };
    manifest[name] = record;
    imported.push(record);
  }
  writeFileSync(path.join(root, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return imported;
}

/** First start convenience: with no boot files yet and Debian's ipxe installed, take them from there. */
export async function importDefaultBootFiles(dataDir: string): Promise<BootFileRecord[]> {
  const root = bootFileRoot(dataDir);
  mkdirSync(root, { recursive: true });
  if (existsSync(path.join(root, 'undionly.kpxe')) || !existsSync(DEBIAN_IPXE_DIR)) return [];
  return importBootFiles(DEBIAN_IPXE_DIR, dataDir);
}
