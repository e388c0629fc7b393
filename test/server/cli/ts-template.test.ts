/**
 * `osdeploy ts create --template install-linux`: the Linux install a newcomer deploys in the
 * README's first-boot walk-through, as a custom task sequence with the template's steps —
 * one GPT layout for BIOS and UEFI, Apply Operating System Image, Restart Computer — made in
 * full or not at all, and refused with the reason when an answer is missing or does not fit.
 */
import t from 'tap';
import { LINUX_LAYOUT, templateOperations } from '../../../server/cli/ts-templates.js';
import { capture, startSite } from './harness.js';

interface TsView {
  readonly id: string;
  readonly type: string;
  readonly bootImageId: string | null;
  readonly deploysOs: boolean;
  readonly items: readonly { kind: string; type?: string; name: string; condition: unknown; properties?: Record<string, unknown> }[];
}

t.test('install-linux: its operations, and what it needs', async (t) => {
  const ops = templateOperations('install-linux', { bootImageId: 'PS100001', osImageId: 'PS100002' });
  if (typeof ops === 'string') throw new Error(ops);
  t.same(ops.map((o) => o.type), ['FormatAndPartitionDisk', 'ApplyOperatingSystemImage', 'RestartComputer']);
  t.same(LINUX_LAYOUT.map((v) => /type=(\w+)/.exec(v)?.[1]), ['biosboot', 'efi', 'primary'], 'BIOS boot, ESP, root: one GPT disk both firmwares boot');
  t.match(LINUX_LAYOUT[2], /size=100%;fs=ext4;variable=OSDisk/);
  t.match(ops[1], { properties: { osImageId: 'PS100002', destination: 'driveLetterVariable', destinationVariable: 'OSDisk' } }, 'the image goes to the root volume Format named');
  t.notOk('imageIndex' in (ops[1]!.properties as object), 'no image index unless given');
  t.match(templateOperations('install-linux', { bootImageId: 'PS100001', osImageId: 'PS100002', imageIndex: 2 }), [{}, { properties: { imageIndex: 2 } }, {}]);
  t.equal(templateOperations('install-linux', { bootImageId: 'PS100001' }), '--template install-linux needs --os-image');
  t.equal(templateOperations('install-linux', {}), '--template install-linux needs --boot-image, --os-image');
  t.match(templateOperations('constructor', {}), /^no template "constructor"; templates: install-linux$/, 'only its own names');
});

t.test('ts create --template install-linux against the real service', async (t) => {
  const site = await startSite(t);
  const boot = await site.api<{ id: string }>('POST', '/content', { kind: 'bootImage', name: 'osdeploy boot environment (x64)', architecture: 'x64' });
  const os = await site.api<{ id: string }>('POST', '/content', { kind: 'osImage', name: 'Debian 12' });
  const count = async () => (await site.api<{ items: unknown[] }>('GET', '/task-sequences')).items.length;

  const r = await site.cli(['ts', 'create', '--template', 'install-linux', '--name', 'Install Debian', '--boot-image', boot.id, '--os-image', os.id]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const id = capture(r.stdout, /^created task sequence (\S+) from template install-linux$/m);
  t.match(r.stdout, /Partition Disk 0 {2}\(FormatAndPartitionDisk\)/);
  t.match(r.stdout, /Apply Operating System {2}\(ApplyOperatingSystemImage\)/);
  t.match(r.stdout, /Restart Computer {2}\(RestartComputer\)/);
  const ts = await site.api<TsView>('GET', `/task-sequences/${id}`);
  t.match(ts, { type: 'custom', bootImageId: boot.id, deploysOs: true });
  t.same(ts.items.map((i) => [i.type, i.name, i.condition]), [
    ['FormatAndPartitionDisk', 'Partition Disk 0', null],
    ['ApplyOperatingSystemImage', 'Apply Operating System', null],
    ['RestartComputer', 'Restart Computer', null],
  ], 'three steps, no firmware conditions');
  t.match(ts.items[0]!.properties, { diskNumber: 0, diskType: 'gpt', partitions: [...LINUX_LAYOUT] });
  t.match(ts.items[2]!.properties, { restartTo: 'currentOs' });
  t.match(await site.api('GET', `/task-sequences/${id}/references`), { ok: true }, 'deployable: every reference is there (R-04)');
  const dep = await site.cli(['deployments', 'create', '--ts', id, '--collection', 'SMS000US', '--purpose', 'required', '--availability', 'mediaPxe', '--asap']);
  t.equal(dep.code, 0, `deployable Required to All Unknown Computers (R-10 allows it): ${dep.stderr}`);

  const json = await site.cli(['ts', 'create', '--template', 'install-linux', '--name', 'Install Debian 2', '--boot-image', boot.id, '--os-image', os.id, '--image-index', '2', '--json']);
  t.equal(json.code, 0, json.stderr);
  t.match(JSON.parse(json.stdout), { type: 'custom', items: [{}, { properties: { imageIndex: 2 } }, {}] }, '--json prints the task sequence');

  const before = await count();
  const refusals: [string[], RegExp][] = [
    [['--name', 'X', '--boot-image', boot.id, '--os-image', os.id], /give --type or --template \(one of them\)/],
    [['--type', 'custom', '--template', 'install-linux', '--name', 'X'], /give --type or --template \(one of them\)/],
    [['--template', 'install-linux', '--name', 'X', '--boot-image', boot.id], /--template install-linux needs --os-image/],
    [['--template', 'install-linux', '--name', 'X', '--os-image', os.id], /--template install-linux needs --boot-image/],
    [['--template', 'install-linux', '--name', 'X', '--boot-image', boot.id, '--os-image', os.id, '--domain', 'corp.example', '--product-key', 'K'], /--template install-linux does not take --product-key, --domain/],
    [['--template', 'install-windows', '--name', 'X'], /argument 'install-windows' is invalid\. must be one of install-linux/],
  ];
  for (const [args, message] of refusals) {
    const bad = await site.cli(['ts', 'create', ...args]);
    t.not(bad.code, 0, `refused: ${args.join(' ')}`);
    t.match(bad.stderr, message);
  }
  t.equal(await count(), before, 'nothing was created by a refused command');

  // The steps are refused by the site after the task sequence was made (a control character
  // in a content id): it is deleted again.
  const broken = await site.cli(['ts', 'create', '--template', 'install-linux', '--name', 'Broken', '--boot-image', boot.id, '--os-image', 'PS10\u00070002']);
  t.not(broken.code, 0, 'a step the site refuses fails the command');
  t.match(broken.stderr, /^osdeploy: .*osImageId/m, broken.stderr);
  t.equal(await count(), before, 'and leaves no half-made task sequence');
});
