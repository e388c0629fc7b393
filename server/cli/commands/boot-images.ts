/**
 * `osdeploy boot-images build` (issue 12, R-37): asks the site to build osdeploy's Linux boot
 * environment from Debian packages and import it as a boot image, showing the build's progress;
 * prints the boot image's id, ready for `ts create --boot-image`. `boot-images list` shows the
 * boot images (technicians too: `media create --boot-image`).
 */
import type { Command } from 'commander';
import { formatTable } from '../table.js';
import { CliError, enc, noun, oneOf, show, verb } from '../runtime.js';

interface BuildView {
  readonly id: string;
  readonly arch: string;
  readonly name: string;
  readonly state: 'building' | 'ready' | 'failed';
  readonly progress: { phase: string; message: string; percent: number } | null;
  readonly error: string | null;
  readonly contentId: string | null;
  readonly startedAt: string;
  readonly result: { kernelVersion: string; kernelBytes: number; initrdBytes: number; unpackedBytes: number; packages: number; modules: number; nodeVersion: string; seconds: number } | null;
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

function summary(v: BuildView): string {
  if (v.state === 'failed') return `boot environment build ${v.id} failed: ${v.error}`;
  if (v.state === 'building') return `boot environment build ${v.id}: ${v.progress ? `${v.progress.percent}% ${v.progress.message}` : 'starting'}`;
  const r = v.result!;
  return [
    `boot image ${v.contentId}: ${v.name}`,
    `  kernel ${r.kernelVersion} (Debian, signed) ${mb(r.kernelBytes)}; initrd ${mb(r.initrdBytes)} (${mb(r.unpackedBytes)} unpacked)`,
    `  ${r.packages} Debian packages, ${r.modules} kernel modules, Node.js ${r.nodeVersion}; built in ${r.seconds.toFixed(0)} s`,
    `  use it: osdeploy ts create --template install-linux --boot-image ${v.contentId} --os-image <OS image> …  (or distribute it, or put it on media)`,
  ].join('\n');
}

interface BootImageView {
  readonly id: string;
  readonly name: string;
  readonly architecture?: string;
  readonly os?: string;
  readonly usable: boolean;
  readonly unusableReason?: string;
  readonly currentVersion: { version: number } | null;
}

export function registerBootImages(program: Command): void {
  const images = noun(program, 'boot-images', "osdeploy's Linux boot environment, built from Debian packages (R-37)");

  verb(images, 'list', 'the boot images media and task sequences can use', async (run) => {
    const r = await run.api.get<{ items: BootImageView[] }>('/boot-images');
    show(run, r, (x) =>
      formatTable(x.items, [
        { header: 'ID', value: (b) => b.id },
        { header: 'NAME', value: (b) => b.name },
        { header: 'ARCH', value: (b) => b.architecture },
        { header: 'OS', value: (b) => b.os },
        { header: 'VERSION', value: (b) => b.currentVersion?.version },
        { header: 'USABLE', value: (b) => (b.usable ? 'yes' : `no: ${b.unusableReason ?? 'unknown reason'}`) },
      ]),
    );
  });

  verb(images, 'build', 'build the boot environment on the site and import it as a boot image', async (run) => {
    const o = run.opts;
    let v = await run.api.post<BuildView>('/boot-images/build', { arch: o.arch, ...(o.name ? { name: o.name } : {}), ...(o.cmdline ? { cmdline: o.cmdline } : {}) });
    if (o.wait !== false) {
      const until = Date.now() + Number(o.timeout ?? 1800) * 1000;
      let last = '';
      while (v.state === 'building') {
        if (Date.now() > until) throw new CliError(`build ${v.id} still running; follow it with: osdeploy boot-images show ${v.id}`);
        await new Promise((r) => setTimeout(r, 500));
        v = await run.api.get<BuildView>(`/boot-images/builds/${enc(v.id)}`);
        const line = v.progress ? `${String(v.progress.percent).padStart(3)}% ${v.progress.phase}: ${v.progress.message}` : '';
        if (line && line !== last && !run.opts.json) process.stderr.write(`${line}\n`);
        last = line;
      }
      if (v.state === 'failed') throw new CliError(summary(v));
    }
    show(run, v, summary);
  })
    .option('--arch <arch>', 'x64 or arm64', oneOf(['x64', 'arm64']), 'x64')
    .option('--name <name>', 'the boot image name')
    .option('--cmdline <args>', 'extra kernel command line arguments')
    .option('--timeout <seconds>', 'how long to wait for the build', '1800')
    .option('--no-wait', 'start the build and return');

  verb(images, 'show <build>', 'a build and its progress', async (run) => {
    const v = await run.api.get<BuildView>(`/boot-images/builds/${enc(run.args[0])}`);
    show(run, v, summary);
  });

  verb(images, 'builds', 'builds since the service started', async (run) => {
    const r = await run.api.get<{ items: BuildView[] }>('/boot-images/builds');
    show(run, r, (x) =>
      formatTable(x.items, [
        { header: 'BUILD', value: (b) => b.id },
        { header: 'ARCH', value: (b) => b.arch },
        { header: 'STATE', value: (b) => b.state },
        { header: 'BOOT IMAGE', value: (b) => b.contentId },
        { header: 'STARTED', value: (b) => b.startedAt },
      ]),
    );
  });
}
