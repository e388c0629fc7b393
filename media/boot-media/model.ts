/**
 * Boot media: what a media is, and where each part lives on it. One layout serves
 * the ISO, the USB folder/tar and the prestaged disk's filesystem, so the engine and
 * `osdeploy media inspect` read all of them the same way.
 */

export const MEDIA_TYPES = ['bootable', 'standalone', 'prestaged'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

/** iso (El Torito BIOS + UEFI, hybrid), folder/tar (copy onto a FAT32 stick), raw (prestaged disk image). */
export const MEDIA_FORMATS = ['iso', 'folder', 'tar', 'raw'] as const;
export type MediaFormat = (typeof MEDIA_FORMATS)[number];

export const formatsFor = (type: MediaType): readonly MediaFormat[] => (type === 'prestaged' ? ['raw'] : ['iso', 'folder', 'tar']);

/** Paths on the media, '/'-separated, relative to its root. */
export const LAYOUT = {
  header: 'osdeploy/media.json',
  variables: 'osdeploy/variables.json',
  manifest: 'osdeploy/manifest.json',
  content: 'osdeploy/content.json',
  blobs: 'content',
  /** Prestaged media: the OS image laid out file by file, ready to apply. */
  osImage: 'os',
  biosScript: 'boot/osdeploy.ipxe',
  ipxeLkrn: 'boot/ipxe.lkrn',
  efiImage: 'boot/efiboot.img',
  isolinuxDir: 'isolinux',
  syslinuxCfg: 'syslinux.cfg',
  /** The UEFI loader (GRUB) of x64 media; x86 and arm64 media have theirs beside it (grub.ts EFI_TARGETS). */
  efiLoader: 'EFI/BOOT/BOOTX64.EFI',
  /** A readable copy of the configuration built into the GRUB loader. */
  grubConfig: 'EFI/BOOT/grub.cfg',
  /** iPXE for UEFI, the GRUB menu's second entry (x64 media). */
  efiIpxe: 'EFI/BOOT/ipxe.efi',
  /** iPXE ≥ 1.21.1 runs autoexec.ipxe from the filesystem it was loaded from (root, later the loader's folder). */
  efiScript: 'EFI/BOOT/autoexec.ipxe',
  efiScriptRoot: 'autoexec.ipxe',
  /** Boot files from the site's boot-file store (wimboot, a kernel declared by a store path), by that path. */
  bootFiles: 'boot/files',
  /** Windows PE from media: the identity file wimboot injects into X:\Windows\System32. */
  winpeIdentity: 'boot/osdeploy.ini',
} as const;

export const VOLUME_ID = 'OSDEPLOY';

/** osdeploy/media.json: never secret, always plain; a password binds it to the variables (GCM AAD). */
export interface MediaHeader {
  readonly format: 'osdeploy-media';
  readonly version: 1;
  readonly id: string;
  readonly type: MediaType;
  readonly siteCode: string;
  /** The site address the boot loader and the engine talk to. */
  readonly site: string;
  readonly architecture: string;
  readonly bootImageId: string;
  /** Absent on password-protected media: the deployment id is a media variable's value there. */
  readonly deploymentId?: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly protected: boolean;
  readonly mediaForm: 'cd' | 'usb' | 'hardDisk';
}

/** One variable the engine sees (the boot-policy answer's shape). */
export interface PolicyVariable {
  readonly name: string;
  readonly value: string | null;
  readonly hidden: boolean;
}

/** What standalone and prestaged media carry so the engine runs with no network. */
export interface MediaPolicy {
  readonly deploymentId: string;
  readonly taskSequenceId: string;
  readonly taskSequenceName: string;
  readonly purpose: string;
  readonly builtIns: Readonly<Record<string, string>>;
  readonly taskSequence: { readonly id: string; readonly name: string; readonly items: readonly unknown[] };
  readonly variables: readonly PolicyVariable[];
  /** Available to media and PXE (hidden): the engine runs it only where the media allows unattended deployment. */
  readonly hidden?: boolean;
  /** Each referenced package's programs by content id: osdeploy/content.json lists files only, Install Package needs these. */
  readonly programs?: Readonly<Record<string, readonly { readonly name: string; readonly commandLine: string }[]>>;
  /**
   * Every content object staged on the media, as the build staged it: sealed with the policy, so
   * osdeploy/content.json (which the password does not cover) cannot be rewritten to match a
   * swapped blob. Absent on media built before it was added.
   */
  readonly content?: readonly MediaPolicyContent[];
}

/** One content object on the media as the policy seals it (MediaPolicy.content). */
export interface MediaPolicyContent {
  readonly id: string;
  readonly kind: string;
  /** Null for an object with no version (no source files). */
  readonly version: number | null;
  readonly root: 'content' | 'os';
  /** sha256 of the staged file list (content/model.ts manifestOf): binds every file's path, sha256 and size. */
  readonly filesSha256: string;
}

/**
 * The protected part: the media variables, the client token and (standalone, prestaged) the
 * policy. Plain JSON without a password; scrypt + AES-256-GCM with one. Its plain shape is the
 * engine's `--media-vars` file (variables, allowUnattended, site, token, mediaForm).
 */
export interface MediaSecrets {
  readonly variables: Readonly<Record<string, string>>;
  readonly allowUnattended: boolean;
  readonly site: string;
  readonly token: string | null;
  readonly mediaForm: string;
  readonly mediaId: string;
  readonly expiresAt: string | null;
  readonly policy?: MediaPolicy;
}

export interface ContentFileRef {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/** osdeploy/content.json: every content object on the media, its files by hash. */
export interface MediaContentEntry {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly version: number | null;
  readonly manifestSha256: string | null;
  /** `content`: files at content/<sha256>; `os`: laid out at os/<path> (prestaged OS image). */
  readonly root: 'content' | 'os';
  readonly files: readonly ContentFileRef[];
}

export interface ManifestEntry {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface MediaManifest {
  readonly format: 'osdeploy-media-manifest';
  readonly mediaId: string;
  /** Every file on the media but the manifest itself, path-sorted. */
  readonly files: readonly ManifestEntry[];
}

export const PREFERRED_VARIABLE = 'SMSTSPreferredAdvertID';

/** Variable names as Configuration Manager allows them: no spaces, `_` prefix reserved for built-ins. */
export const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,255}$/;

export class MediaError extends Error {
  constructor(
    readonly code: 'invalid' | 'tool-missing' | 'tool-failed' | 'wrong-password' | 'tampered' | 'expired' | 'not-media' | 'too-large',
    message: string,
  ) {
    super(message);
    this.name = 'MediaError';
  }
}

export function preferredOf(vars: Readonly<Record<string, string>>): string | undefined {
  const key = Object.keys(vars).find((k) => k.toLowerCase() === PREFERRED_VARIABLE.toLowerCase());
  return key === undefined ? undefined : vars[key];
}
