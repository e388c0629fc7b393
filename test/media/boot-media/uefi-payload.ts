/**
 * The small Linux boot image the UEFI media test starts from the ISO: Debian's cloud kernel,
 * the few modules it needs for qemu's virtio NIC, virtio-scsi CD drive and ISO 9660, a static busybox,
 * and an /init that does what the engine does first: reads `osdeploy.site=`, `osdeploy.media=`
 * and `osdeploy.preferred=` from its command line, finds its media (the CD whose
 * osdeploy/media.json names that id) and its token there, and asks the site's boot policy for
 * the preferred deployment. Kernel, modules and busybox come from Debian packages
 * (`apt-get download`), cached across runs; nothing binary is committed.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { cloudKernelPackage, cpioNewc } from '../../fixtures/e2e/payload.js';

export const INIT_MARKER = 'OSDEPLOY-E2E-UEFI-INIT';

/** Modules for virtio-net, a virtio-scsi CD drive (the cloud kernel has no AHCI) and ISO 9660; their dependencies are read from them. */
const WANTED = ['virtio_pci', 'virtio_net', 'virtio_scsi', 'sr_mod', 'isofs'];

/** The /init: marker, command line, modules, media, network (qemu user mode), the site's answer, off. */
export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /media /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "${INIT_MARKER}"
echo "OSDEPLOY-E2E-CMDLINE: $(cat /proc/cmdline)"
arg() { tr ' ' '\\n' < /proc/cmdline | sed -n "s/^$1=//p" | head -n 1; }
for m in $(cat /modules/order); do insmod "/modules/$m.ko" || echo "OSDEPLOY-E2E: insmod $m failed"; done
site=$(arg osdeploy.site); media=$(arg osdeploy.media); preferred=$(arg osdeploy.preferred); unattended=$(arg osdeploy.unattended)
i=0; while [ ! -b /dev/sr0 ] && [ $i -lt 20 ]; do sleep 1; i=$((i+1)); done
mount -t iso9660 -o ro /dev/sr0 /media || echo "OSDEPLOY-E2E: no CD"
grep -q "\\"id\\": \\"$media\\"" /media/osdeploy/media.json && echo "OSDEPLOY-E2E-MEDIA: $media"
token=$(sed -n 's/.*"token": "\\([^"]*\\)".*/\\1/p' /media/osdeploy/variables.json)
ip link set lo up; ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2
mac=$(cat /sys/class/net/eth0/address)
wget -q -O /tmp/policy --header "Authorization: Bearer $token" "$site/api/v1/boot-policy?mac=$mac&source=media&preferred=$preferred&unattended=$unattended" || echo "OSDEPLOY-E2E: wget failed"
field() { grep -o "\\"$1\\":\\"[A-Za-z0-9]*\\"" /tmp/policy | head -n 1; }
echo "OSDEPLOY-E2E-POLICY: $(field kind) $(field deploymentId) $(field why)"
sync
poweroff -f
`;

const run = (cmd: string, args: string[], cwd?: string): string => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `apt-get download PKG` into `dir` and unpack `members` of it there; the package lists are refreshed once if stale. */
function unpackDeb(pkg: string, dir: string, members: readonly string[]): void {
  try {
    run('apt-get', ['download', '-q', pkg], dir);
  } catch {
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['download', '-q', pkg], dir);
  }
  const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  execFileSync('sh', ['-c', 'deb="$1"; dir="$2"; shift 2; dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" "$@"', 'sh', path.join(dir, deb), dir, ...members], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function findFiles(root: string, ext: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.name.endsWith(ext)) out.set(e.name.slice(0, -ext.length).replace(/-/g, '_'), p);
    }
  };
  visit(root);
  return out;
}

/** A module's `depends=` from its .modinfo section. */
const dependsOf = (ko: Buffer): string[] => /(?:^|\0)depends=([^\0]*)\0/.exec(ko.toString('latin1'))?.[1]?.split(',').filter(Boolean).map((d) => d.replace(/-/g, '_')) ?? [];

/** Kernel, modules (in load order) and busybox, cached in `cacheDir` under the kernel package's name. */
export function ensureUefiPayload(cacheDir: string): { kernel: string; busybox: string; modules: string } {
  const dir = path.join(cacheDir, 'media-uefi', cloudKernelPackage());
  const ready = path.join(dir, 'ready');
  const modules = path.join(dir, 'modules');
  if (!existsSync(ready)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(modules, { recursive: true });
    const scratch = mkdtempSync(path.join(dir, 'deb-'));
    unpackDeb(path.basename(dir), scratch, ['./boot', './lib/modules']);
    const boot = readdirSync(path.join(scratch, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!boot) throw new Error('the kernel package holds no boot/vmlinuz-*');
    copyFileSync(path.join(scratch, 'boot', boot), path.join(dir, 'vmlinuz'));
    const all = findFiles(path.join(scratch, 'lib', 'modules'), '.ko');
    const order: string[] = [];
    const add = (name: string, chain: readonly string[]): void => {
      if (order.includes(name)) return;
      const file = all.get(name);
      if (!file) throw new Error(`the kernel package has no module ${name} (needed by ${chain.join(' <- ') || 'the test'}); is it built in?`);
      for (const d of dependsOf(readFileSync(file))) add(d, [name, ...chain]);
      copyFileSync(file, path.join(modules, `${name}.ko`));
      order.push(name);
    };
    for (const m of WANTED) add(m, []);
    writeFileSync(path.join(modules, 'order'), `${order.join('\n')}\n`);
    rmSync(scratch, { recursive: true, force: true });

    const bb = mkdtempSync(path.join(dir, 'deb-'));
    unpackDeb('busybox-static', bb, ['./bin/busybox']);
    copyFileSync(path.join(bb, 'bin', 'busybox'), path.join(dir, 'busybox'));
    rmSync(bb, { recursive: true, force: true });
    writeFileSync(ready, `${new Date().toISOString()}\n`);
  }
  return { kernel: path.join(dir, 'vmlinuz'), busybox: path.join(dir, 'busybox'), modules };
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFCHR = 0o020000;

/** The gzip'd initramfs: /init, /bin/busybox, /modules/*.ko and their load order, /dev/console. */
export function buildUefiInitramfs(p: { busybox: string; modules: string }): Buffer {
  const names = readFileSync(path.join(p.modules, 'order'), 'utf8').split('\n').filter(Boolean);
  return gzipSync(
    cpioNewc([
      { name: 'bin', mode: S_IFDIR | 0o755 },
      { name: 'dev', mode: S_IFDIR | 0o755 },
      { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
      { name: 'modules', mode: S_IFDIR | 0o755 },
      { name: 'bin/busybox', mode: S_IFREG | 0o755, data: readFileSync(p.busybox) },
      ...names.map((n) => ({ name: `modules/${n}.ko`, mode: S_IFREG | 0o644, data: readFileSync(path.join(p.modules, `${n}.ko`)) })),
      { name: 'modules/order', mode: S_IFREG | 0o644, data: Buffer.from(`${names.join('\n')}\n`) },
      { name: 'init', mode: S_IFREG | 0o755, data: Buffer.from(INIT_SCRIPT) },
    ]),
  );
}
