/**
 * The README's first-boot walk-through, run as written (issue 12): its three shell blocks —
 * each right after a `<!-- walkthrough: NAME -->` comment — run unchanged in a temporary copy
 * of this working tree, the way a newcomer runs them. `serve` (`npm start`) runs in the
 * background until it logs `osdeploy serving on`, as the README says to wait; `deploy` runs
 * to its end, which is the qemu VM powering off from its deployed OS; `check` runs last.
 *
 * What the test adds is only what the README leaves to the reader or the machine: the OS
 * image is made here ("your OS image": test/fixtures/e2e/os-image.ts, from the boot
 * environment's Debian packages) where the deploy block's `--source` points, and the boot
 * environment's package cache is filled from OSDEPLOY_E2E_CACHE so nothing is fetched twice.
 * Everything runs in a network namespace of its own (lo, and a bridge holding the address the
 * service advertises, as a LAN address on a host): port 8080 and the PXE and TFTP ports are
 * this test's alone, and the namespace has no way out. A leading `sudo ` would be dropped (the
 * test runs as root); nothing else in a block is changed, and no variable is set for it.
 *
 * Needs root, qemu-system-x86 and what the boot environment build needs (apt-get, dpkg-deb).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { prefetchPackages } from '../../media/boot-env/build.js';
import { E1000_ROM, exited, inOrder, jsonLines, Lab, plainSerial, readText, tail, waitFor } from '../fixtures/e2e/lab.js';
import { buildOsImage, OS_MARKER } from '../fixtures/e2e/os-image.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = process.env.OSDEPLOY_E2E_CACHE ?? '/var/cache/osdeploy-e2e';
const ADDR = '10.79.0.1';
const TOTAL_SECONDS = 1800;
/** `npm start` builds (tsc, esbuild) before it serves. */
const SERVE_SECONDS = 420;
const DEPLOY_SECONDS = 1200;
/** Serial output after which nothing good follows. */
const FATAL = /Kernel panic - not syncing: .*|osdeploy: the deployment stopped.*/;
/** Not copied into the working copy: built, installed or written by a run. */
const NOT_COPIED = new Set(['node_modules', 'dist', 'data', '.git', '.tap', 'coverage', '.tmp']);
const TOOLS = ['ip', 'qemu-system-x86_64', 'truncate', 'timeout', 'npm', 'npx', 'apt-get', 'apt-cache', 'dpkg-deb', 'tar', 'curl'];

export interface Walkthrough {
  readonly serve: string;
  readonly deploy: string;
  readonly check: string;
}

/** The README's marked shell blocks, by name; each must be there exactly once. */
export function walkthroughBlocks(readme: string): Walkthrough {
  const blocks = new Map<string, string>();
  for (const m of readme.matchAll(/<!-- walkthrough: ([a-z]+) -->\n```sh\n([\s\S]*?)\n```/g)) {
    if (blocks.has(m[1]!)) throw new Error(`README.md has two walkthrough blocks named ${m[1]}`);
    blocks.set(m[1]!, m[2]!);
  }
  const get = (name: string): string => {
    const b = blocks.get(name);
    if (!b) throw new Error(`README.md has no block after <!-- walkthrough: ${name} -->`);
    return b.replace(/^sudo /gm, '');
  };
  return { serve: get('serve'), deploy: get('deploy'), check: get('check') };
}

const onPath = (tool: string): boolean => {
  try {
    execFileSync('sh', ['-c', `PATH="$PATH:/usr/sbin:/sbin" command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

function whyNot(): string | null {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (a network namespace of its own)';
  const missing = TOOLS.filter((x) => !onPath(x));
  if (!existsSync(E1000_ROM)) missing.push(`${E1000_ROM} (ipxe-qemu)`);
  return missing.length ? `missing ${missing.join(', ')} (apt-get install qemu-system-x86 iproute2 curl)` : null;
}

/** The environment a newcomer's shell has: ours without tap's, npm's and osdeploy's own variables. */
function shellEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OSDEPLOY_|TAP|_TAPJS|npm_|TS_NODE|NODE_)/i.test(k) || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return env;
}

/** The working tree as a fresh checkout with `npm ci` done: sources copied, node_modules linked. */
function workingCopy(dir: string): string {
  const wc = path.join(dir, 'osdeploy');
  mkdirSync(wc);
  for (const name of readdirSync(ROOT)) if (!NOT_COPIED.has(name)) cpSync(path.join(ROOT, name), path.join(wc, name), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(wc, 'node_modules'));
  return wc;
}

const why = whyNot();
t.setTimeout((TOTAL_SECONDS + 60) * 1000);

t.test('the README marks its walk-through: serve, deploy and check blocks a newcomer can paste', async (t) => {
  const blocks = walkthroughBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  t.equal(blocks.serve.trim(), 'npm start', 'the service starts with npm start');
  t.match(blocks.deploy, /--source \S+/, 'the deploy block imports the OS image from a folder');
  const last = blocks.deploy.replace(/\\\n/g, ' ').trim().split('\n').pop() ?? '';
  t.match(last, /^qemu-system-x86_64 /, 'and ends with the VM (anything pasted after it would go to its console)');
  t.notMatch(blocks.deploy, /\bOSDEPLOY_\w+=|export /, 'no variable to set first');
  t.match(blocks.check, /deployments status \S+/);
  t.throws(() => walkthroughBlocks('<!-- walkthrough: serve -->\n```sh\nnpm start\n```\n'), /no block after <!-- walkthrough: deploy -->/);
});

t.test("the README's first-boot walk-through, as written: npm start → … → a qemu VM running its deployed OS", { skip: why ?? false, timeout: TOTAL_SECONDS * 1000 }, async (t) => {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(0);
  const blocks = walkthroughBlocks(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  const source = /--source (\S+)/.exec(blocks.deploy)?.[1];
  const deploymentId = /deployments status (\S+)/.exec(blocks.check)?.[1];
  if (!source || !deploymentId) throw new Error('the walk-through no longer imports an OS image with --source or checks a deployment with `deployments status`: update this test');

  const dir = mkdtempSync(path.join(tmpdir(), 'osd-readme-'));
  const lab = new Lab(dir, ADDR);
  const logs = { serve: path.join(dir, 'serve.log'), deploy: path.join(dir, 'deploy.log'), check: path.join(dir, 'check.log') };
  t.teardown(async () => {
    await lab.close();
    if (t.passing()) rmSync(dir, { recursive: true, force: true });
    else t.comment(`logs and the working copy kept in ${dir}`);
  });

  const wc = workingCopy(dir);
  const data = path.join(wc, 'data');
  const debCache = path.join(CACHE, 'boot-env-debs');
  const n = await prefetchPackages('x64', debCache);
  mkdirSync(path.join(data, 'cache', 'boot-env'), { recursive: true });
  for (const f of readdirSync(debCache)) if (f.endsWith('.deb')) copyFileSync(path.join(debCache, f), path.join(data, 'cache', 'boot-env', f));
  const imageDir = path.resolve(wc, source);
  mkdirSync(imageDir, { recursive: true });
  const os = buildOsImage(path.join(data, 'cache', 'boot-env'), imageDir);
  t.comment(`working copy, ${n} Debian packages and "your OS image" (${path.relative(wc, os.file)}, kernel ${os.kernelVersion}) ready at ${secs()} s`);

  lab.up(0);
  const env = shellEnv();
  const run = (name: keyof Walkthrough, seconds: number): ChildProcess => lab.start(name, seconds, 'bash', ['-e', '-c', blocks[name]], logs[name], wc, env);

  run('serve', TOTAL_SECONDS);
  await waitFor('`osdeploy serving on` from npm start', SERVE_SECONDS * 1000, () => {
    if (/npm ERR!|error TS\d+/.test(readText(logs.serve))) throw new Error(`npm start failed:\n${tail(logs.serve, 30)}`);
    return jsonLines(logs.serve).find((e) => String(e.msg).startsWith('osdeploy serving on'));
  });
  t.comment(`npm start serving at ${secs()} s`);

  const deploy = run('deploy', DEPLOY_SECONDS);
  let fatal: string | undefined;
  const watch = setInterval(() => {
    fatal = FATAL.exec(plainSerial(readText(logs.deploy)))?.[0];
    if (!fatal) return;
    clearInterval(watch);
    setTimeout(() => deploy.kill('SIGTERM'), 3000);
  }, 1000);
  const code = await exited(deploy, (DEPLOY_SECONDS + 10) * 1000).finally(() => clearInterval(watch));
  const serial = plainSerial(readText(logs.deploy));
  t.comment(`deploy block exited ${code} at ${secs()} s${fatal ? `, stopped on "${fatal}"` : ''}`);

  await t.test('the deploy block ran every command and the VM ended in its deployed OS', async (t) => {
    t.equal(code, 0, 'every command succeeded, and qemu ended when the deployed OS powered off');
    t.match(serial, /created task sequence PS\d+ from template install-linux/, 'the task sequence came from the template');
    const order = inOrder(serial, [
      `osdeploy: starting Install Debian (${deploymentId}`,
      'osdeploy: boot environment',
      'osdeploy: firmware BIOS; disks: 0=vda',
      /osdeploy: step 1 of 3: Partition Disk 0/,
      /osdeploy: step 2 of 3: Apply Operating System/,
      /osdeploy: step 3 of 3: Restart Computer/,
      'osdeploy: the task sequence restarts the computer: reboot',
      // R-19 and R-17: the machine is known now and ran its Required deployment from PXE.
      'osdeploy: nothing to run, booting from the next device',
      `${OS_MARKER} hostname=`,
    ]);
    t.equal(order.missing, null, 'the serial console shows iPXE starting the deployment, each step, the restart, the second network boot with nothing to run and the deployed OS, in order', { found: order.found });
    const hostname = new RegExp(`${OS_MARKER} hostname=(\\S+)`).exec(serial)?.[1];
    t.ok(hostname && hostname !== 'localhost', `the deployed OS has the name the site gave the machine (${hostname}), not the image's own`);
    t.match(serial, new RegExp(`${OS_MARKER}-ROOT /dev/vda3 /`), "it runs from the template's root volume, the third of the GPT layout");
    t.match(serial, new RegExp(`${OS_MARKER}-FSTAB UUID=[0-9a-f-]+ / ext4`), 'its fstab names the root by UUID');
    if (!t.passing()) t.comment(`deploy block output (end):\n${plainSerial(tail(logs.deploy, 80))}`);
  });

  await t.test('the check block shows the deployment succeeded, as does the site', async (t) => {
    const check = await exited(run('check', 120), 130_000);
    const out = readText(logs.check);
    t.equal(check, 0, 'the check block succeeded', { out });
    t.match(out, new RegExp(`deployment ${deploymentId} to SMS000US: success 1, in progress 0, error 0`), 'one success, nothing failed', { out });
    const token = readFileSync(path.join(data, 'admin.token'), 'utf8').trim();
    const status = lab.http('GET', `http://127.0.0.1:8080/api/v1/deployments/${deploymentId}/status`, token);
    t.match(JSON.parse(status.body), { counts: { success: 1, error: 0 } }, 'GET /deployments/:id/status');
    const asked = jsonLines(logs.serve).filter((e) => e.msg === 'incoming request' && /^\/boot\.ipxe\?mac=/.test(String((e.req as { url?: string } | undefined)?.url)));
    t.equal(asked.length, 2, 'iPXE asked again with its identity on both boots (the plain /boot.ipxe of qemu\'s DHCP answered with the asking script)');
  });
  t.comment(`total ${secs()} s`);
});
