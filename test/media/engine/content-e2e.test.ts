/**
 * Content end to end: packages imported into the real content library,
 * distributed to the site's point, named by the boot policy's content section, fetched by the
 * engine over `GET /content/<id>/<version>/<path>` with every hash verified, and used by Install
 * Package, Apply Operating System Image and Apply Driver Package. An Available deployment, so
 * the technician's choice (`--pick`) is exercised too.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runEngine } from './engine-process.js';
import { engineSite } from './site.js';
import { sourceFolder, tempDir } from './step-env.js';

t.test('R-16/R-29 the engine downloads distributed content, verifies it and installs, applies and copies it', async (t) => {
  const s = await engineSite(t);
  const src = tempDir(t);
  const folder = (name: string, files: Record<string, string>) => sourceFolder(src, name, files);
  folder('tools', { 'install.sh': 'mkdir -p "$OSDEPLOY_ROOT/opt/tools" && cp payload.txt "$OSDEPLOY_ROOT/opt/tools/"\n', 'payload.txt': 'tool bits\n' });
  folder('rootfs', { 'etc/os-release': 'NAME=OsDeployTest\n' });
  mkdirSync(path.join(src, 'image'));
  execFileSync('tar', ['-cf', path.join(src, 'image', 'install.tar'), '-C', path.join(src, 'rootfs'), '.']);
  folder('drivers', { 'nic/nic.inf': '[Version]\n' });

  const create = (body: Record<string, unknown>) => s.api<{ id: string }>('POST', '/content', body);
  const tools = await create({ kind: 'package', name: 'Tools', sourcePath: path.join(src, 'tools'), programs: [{ name: 'Install', commandLine: 'sh install.sh' }] });
  const image = await create({ kind: 'osImage', name: 'Test OS', architecture: 'x64', sourcePath: path.join(src, 'image') });
  const drivers = await create({ kind: 'driverPackage', name: 'NIC drivers', sourcePath: path.join(src, 'drivers') });

  const ts = await s.taskSequence('Deploy with content', [
    { name: 'Download tools', type: 'DownloadPackageContent', properties: { packageIds: [tools.id], saveLocationVariable: 'ToolsPath' } },
    { name: 'Show path', type: 'RunCommandLine', properties: { commandLine: 'echo %ToolsPath01% > tools-path.txt' } },
    { name: 'Apply OS', type: 'ApplyOperatingSystemImage', properties: { osImageId: image.id } },
    { name: 'Install tools', type: 'InstallPackage', properties: { packageId: tools.id, programName: 'Install' } },
    { name: 'Drivers', type: 'ApplyDriverPackage', properties: { driverPackageId: drivers.id } },
  ]);
  const points = await s.api<{ items: { id: string; kind: string }[] }>('GET', '/distribution-points');
  const local = points.items.find((p) => p.kind === 'local')!.id;
  const dist = await s.api<{ job: { id: string } | null }>('POST', '/distributions', { taskSequenceId: ts.id, pointIds: [local] });
  for (let i = 0; dist.job && i < 600; i++) {
    const job = await s.api<{ state: string }>('GET', `/distribution-jobs/${dist.job.id}`);
    if (job.state === 'completed') break;
    if (job.state === 'completedWithFailures') throw new Error(JSON.stringify(job));
    await new Promise((r) => setTimeout(r, 50));
  }
  const dep = await s.deploy({ taskSequenceId: ts.id, collectionId: 'SMS000US', purpose: 'available', availability: 'mediaPxe' });

  const root = tempDir(t);
  const state = tempDir(t);
  const args = ['--site', s.url, '--token', s.clientToken, '--mac', '02:aa:bb:00:00:20', '--arch', 'x64', '--root', root, '--state', state, '--source', 'media', '--flush-timeout', '10'];
  const unpicked = await runEngine(t, args);
  t.equal(unpicked.code, 5, 'an Available deployment needs a choice');
  t.match(unpicked.stderr, new RegExp(`a choice is needed; offered: ${dep} \\(Deploy with content\\)`));

  const r = await runEngine(t, [...args, '--pick', dep]);
  if (r.code !== 0) t.comment(r.stderr);
  t.equal(r.code, 0, 'the picked deployment ran');
  t.equal(readFileSync(path.join(root, 'etc', 'os-release'), 'utf8'), 'NAME=OsDeployTest\n', 'the OS image (a tar) was applied');
  t.equal(readFileSync(path.join(root, 'opt', 'tools', 'payload.txt'), 'utf8'), 'tool bits\n', 'the package program ran from the downloaded content');
  t.equal(readFileSync(path.join(root, 'drivers', drivers.id, 'nic', 'nic.inf'), 'utf8'), '[Version]\n');
  t.equal(readFileSync(path.join(root, 'tools-path.txt'), 'utf8').trim(), path.join(state, 'cache', tools.id), 'Download Package Content set the location variable');
  const status = await s.api<{ counts: Record<string, number> }>('GET', `/deployments/${dep}/status`);
  t.match(status.counts, { success: 1 });
});
