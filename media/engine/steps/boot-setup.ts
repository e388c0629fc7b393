/**
 * Makes the applied OS start from its own disk, as Configuration Manager's Apply Operating System
 * Image makes Windows bootable: /etc/fstab from the volumes' UUIDs, GRUB for the firmware the
 * machine booted with (UEFI: the removable path EFI/BOOT/BOOTX64.EFI, which firmware finds with no
 * NVRAM entry; BIOS: the disk's MBR, and on GPT the BIOS boot partition), a grub.cfg of our own,
 * the computer name and the network settings. The text comes from boot-config.ts and
 * network-config.ts; this file only reads the target and writes to it.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sysPath } from '../kernel.js';
import { chooseKernel, consoleArgs, fstabText, grubCfgText, hostName, hostsText, osName } from './boot-config.js';
import { adaptersFromVariables, ifupdownText, networkdFiles, type Nic } from './network-config.js';
import { runProcess } from './process.js';
import { which, type StepEnv } from './types.js';
import type { DiskBook, VolumeRecord } from './volumes.js';

export interface BootTarget {
  readonly root: string;
  readonly volume: VolumeRecord;
  readonly esp: VolumeRecord | undefined;
  readonly book: DiskBook;
}

export type BootResult = { readonly ok: true; readonly lines: string[] } | { readonly ok: false; readonly message: string; readonly lines: string[] };

/** GRUB's platform for this firmware and architecture, and the Debian package that has its modules. */
export function grubTarget(uefi: boolean, arch: string): { target: string; pkg: string } {
  if (!uefi) return { target: 'i386-pc', pkg: 'grub-pc-bin' };
  if (arch === 'arm64') return { target: 'arm64-efi', pkg: 'grub-efi-arm64-bin' };
  if (arch === 'x86') return { target: 'i386-efi', pkg: 'grub-efi-ia32-bin' };
  return { target: 'x86_64-efi', pkg: 'grub-efi-amd64-bin' };
}

const read = (file: string): string | null => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};

/**
 * A file of the deployed OS: world-readable like the files it replaces (state.ts's atomicWrite
 * makes 0600 files for the engine's secrets; systemd-networkd, for one, reads its files as its
 * own user), written to a temporary file and renamed so a power cut leaves old or new.
 */
function writeTarget(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.osdeploy-tmp`;
  writeFileSync(tmp, text);
  chmodSync(tmp, 0o644);
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Wired NICs the kernel shows: Ethernet (type 1) with a device behind them (not a bridge or veth). */
function wiredNics(): Nic[] {
  const base = sysPath('sys/class/net');
  let names: string[];
  try {
    names = readdirSync(base).sort();
  } catch {
    return [];
  }
  return names
    .filter((n) => read(path.join(base, n, 'type'))?.trim() === '1' && existsSync(path.join(base, n, 'device')) && !n.startsWith('wl'))
    .map((n) => ({ name: n, mac: (read(path.join(base, n, 'address')) ?? '').trim().toLowerCase() }));
}

async function installGrub(env: StepEnv, t: BootTarget, lines: string[]): Promise<string | null> {
  const { target, pkg } = grubTarget(env.uefi, env.arch);
  const grub = which('grub-install', env.searchPath);
  if (!grub) return `grub-install not found: the boot environment needs Debian packages grub2-common and ${pkg}`;
  if (!existsSync(`/usr/lib/grub/${target}`)) return `GRUB for ${target} is not installed (/usr/lib/grub/${target} is missing): Debian package ${pkg}`;
  const boot = path.join(t.root, 'boot');
  let args: string[];
  if (env.uefi) {
    if (!t.esp) return `the machine booted with UEFI but disk ${t.volume.disk} has no EFI system partition: add a volume type=efi;fs=fat32 (e.g. size=260MB) to Format and Partition Disk`;
    args = [`--target=${target}`, `--efi-directory=${path.join(boot, 'efi')}`, `--boot-directory=${boot}`, '--removable', '--no-nvram'];
  } else {
    if (t.volume.table === 'gpt' && !t.book.volumes.some((v) => v.disk === t.volume.disk && v.type === 'biosboot')) {
      return `the machine booted with BIOS but disk ${t.volume.disk} is GPT without a BIOS boot partition: GRUB has nowhere to put its core image. Partition it MBR for BIOS (a Format step with the condition _SMSTSBootUEFI not equals true), or add a volume type=biosboot;size=1MB;fs=none`;
    }
    args = [`--target=${target}`, `--boot-directory=${boot}`, t.volume.diskPath];
  }
  const r = await runProcess(grub, args, { cwd: '/', timeoutMs: 10 * 60_000 });
  lines.push(`grub-install ${args.join(' ')}: exit ${r.exitCode}`, ...r.output.trim().split('\n').filter((l) => l !== ''));
  if (r.spawnError || r.exitCode !== 0) return `grub-install --target=${target} failed (exit ${r.exitCode}${r.spawnError ? `, ${r.spawnError}` : ''})`;
  return null;
}

function writeNetwork(env: StepEnv, root: string, lines: string[]): string | null {
  const adapters = adaptersFromVariables((n) => env.vars.get(n));
  if (adapters && 'error' in adapters) return adapters.error;
  const how = adapters ? `${adapters.length} adapter(s) from the OSDAdapter variables` : 'DHCP on every wired NIC';
  if (existsSync(path.join(root, 'etc', 'systemd'))) {
    for (const f of networkdFiles(adapters)) writeTarget(path.join(root, 'etc', 'systemd', 'network', f.name), f.text);
    lines.push(`network: systemd-networkd, ${how}`);
  }
  if (existsSync(path.join(root, 'etc', 'network'))) {
    writeTarget(path.join(root, 'etc', 'network', 'interfaces.d', 'osdeploy'), ifupdownText(adapters, wiredNics()));
    lines.push(`network: ifupdown, ${how}`);
  }
  return null;
}

export async function setupBoot(env: StepEnv, t: BootTarget): Promise<BootResult> {
  const lines: string[] = [];
  const { root, volume } = t;
  if (!volume.uuid) return { ok: false, message: `volume ${volume.partition} of disk ${volume.disk} has no file system UUID`, lines };
  const bootDir = path.join(root, 'boot');
  const kernel = chooseKernel(existsSync(bootDir) ? readdirSync(bootDir) : []);
  if (!kernel) return { ok: false, message: 'the image has no kernel in /boot (vmlinuz-<version> or vmlinuz): it cannot be made bootable', lines };
  if (!kernel.initrd) lines.push(`warning: no initramfs beside /boot/${kernel.kernel}; the kernel must mount root=UUID= by itself`);

  writeTarget(path.join(root, 'etc', 'fstab'), fstabText({ root: { uuid: volume.uuid, fs: volume.fs }, esp: t.esp?.uuid ? { uuid: t.esp.uuid } : undefined }));
  lines.push(`fstab: / UUID=${volume.uuid}${t.esp ? `, /boot/efi UUID=${t.esp.uuid}` : ''}`);

  const grubError = await installGrub(env, t, lines);
  if (grubError) return { ok: false, message: grubError, lines };
  const consoles = consoleArgs(read(sysPath('proc/cmdline')) ?? '');
  writeTarget(path.join(bootDir, 'grub', 'grub.cfg'), grubCfgText({
    title: osName(read(path.join(root, 'etc', 'os-release')) ?? read(path.join(root, 'usr', 'lib', 'os-release'))),
    bootUuid: volume.uuid,
    rootUuid: volume.uuid,
    kernel: `/boot/${kernel.kernel}`,
    initrd: kernel.initrd ? `/boot/${kernel.initrd}` : null,
    consoles,
  }));
  lines.push(`grub.cfg: /boot/${kernel.kernel}${kernel.initrd ? ` + /boot/${kernel.initrd}` : ''}${consoles.length ? ` ${consoles.join(' ')}` : ''}`);

  const name = hostName(env.vars.get('OSDComputerName') ?? env.vars.get('_SMSTSMachineName') ?? '');
  if (name) {
    writeTarget(path.join(root, 'etc', 'hostname'), `${name}\n`);
    writeTarget(path.join(root, 'etc', 'hosts'), hostsText(read(path.join(root, 'etc', 'hosts')), name));
    lines.push(`computer name: ${name}`);
  } else lines.push('computer name: none known (OSDComputerName is not set); the image keeps its own');
  const netError = writeNetwork(env, root, lines);
  if (netError) return { ok: false, message: netError, lines };
  return { ok: true, lines };
}
