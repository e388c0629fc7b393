/**
 * What policy knows about content: kinds, and the facts a reference check needs. The
 * content library itself lives in content/; policy only sees this read-only index, built by
 * the caller (DESIGN.md: policy imports nothing from the other top-level folders).
 */
export const CONTENT_KINDS = [
  'bootImage',
  'osImage',
  'osUpgradePackage',
  'driverPackage',
  'package',
  'application',
] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

export const CONTENT_KIND_LABEL: Record<ContentKind, string> = {
  bootImage: 'boot image',
  osImage: 'operating system image',
  osUpgradePackage: 'operating system upgrade package',
  driverPackage: 'driver package',
  package: 'package',
  application: 'application',
};

export interface ContentInfo {
  readonly kind: ContentKind;
  readonly id: string;
  readonly name: string;
  /** False when the object exists but cannot be used (no version, no source, retired…). */
  readonly usable: boolean;
  readonly unusableReason?: string;
  /** Applications (and packages) may depend on others; followed transitively. */
  readonly dependencies?: readonly string[];
  /** Package "Data Access": content may run from the distribution point share. */
  readonly allowRunFromDistributionPoint?: boolean;
  /** Boot images and OS images declare an architecture. */
  readonly architecture?: Architecture;
  /** Boot images: how to start them over the network. */
  readonly boot?: BootImageFiles;
}

/**
 * The files a network boot loads, as paths under the boot-file store (served at `/boot/…` over
 * HTTP and by TFTP). Windows PE boots through wimboot; a Linux live image through its kernel.
 */
export type BootImageFiles =
  | { readonly os: 'winpe'; readonly wim: string; readonly bcd?: string; readonly bootSdi?: string }
  | { readonly os: 'linux'; readonly kernel: string; readonly initrds: readonly string[]; readonly cmdline: string };

export type Architecture = 'x86' | 'x64' | 'arm64';
export const ARCHITECTURES: readonly Architecture[] = ['x86', 'x64', 'arm64'];

/** Read-only lookup of content objects by id (ids are unique across kinds). */
export interface ContentIndex {
  get(id: string): ContentInfo | undefined;
}

export function contentIndexOf(items: Iterable<ContentInfo>): ContentIndex {
  const map = new Map<string, ContentInfo>();
  for (const item of items) map.set(item.id, item);
  return { get: (id) => map.get(id) };
}
