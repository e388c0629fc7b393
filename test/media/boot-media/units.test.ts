/** The small parts: the sealed variables file, boot scripts, hostile archives, missing tools. */
import { Readable } from 'node:stream';
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import tar from 'tar-stream';
import { unpackTar } from '../../../media/boot-media/archive.js';
import { DEFAULT_SCRYPT, headerAad, openJson, sealJson } from '../../../media/boot-media/crypto.js';
import { chainUrl, mediaScript, type ScriptTarget } from '../../../media/boot-media/script.js';
import { requireTool, runTool, TOOL_PACKAGES } from '../../../media/boot-media/tools.js';
import { tempDir } from './fixture.js';

const AAD = headerAad({ id: 'PS1M00001', type: 'bootable', createdAt: '2026-03-02T09:00:00.000Z', expiresAt: null, site: 'http://192.0.2.10:8080' });

t.test('sealed variables: scrypt N ≥ 2^15 and AES-256-GCM; wrong password and changed files are told apart', async (t) => {
  const value = { variables: { SMSTSPreferredAdvertID: 'PS120001', Secret: 'Plain-Text-Value' } };
  const sealed = sealJson(value, 'media password', AAD);
  t.match(sealed, { protected: true, cipher: 'aes-256-gcm', kdf: { name: 'scrypt', N: 32768, r: 8, p: 1 } });
  t.ok(DEFAULT_SCRYPT.N >= 2 ** 15);
  t.notOk(JSON.stringify(sealed).includes('Plain-Text-Value'));
  t.same(openJson(sealed, 'media password', AAD), value);
  t.not(sealJson(value, 'media password', AAD).kdf.salt, sealed.kdf.salt, 'a random salt every time');
  t.throws(() => openJson(sealed, 'media passworD', AAD), { code: 'wrong-password', message: 'wrong media password' });
  const otherHeader = headerAad({ id: 'PS1M00001', type: 'bootable', createdAt: '2026-03-02T09:00:00.000Z', expiresAt: '2099-01-01T00:00:00.000Z', site: 'http://192.0.2.10:8080' });
  t.throws(() => openJson(sealed, 'media password', otherHeader), { code: 'tampered' }, 'a changed header (a later expiry) does not open');
  const flipped = Buffer.from(sealed.ciphertext, 'base64');
  flipped[0] = flipped[0]! ^ 1;
  t.throws(() => openJson({ ...sealed, ciphertext: flipped.toString('base64') }, 'media password', AAD), { code: 'tampered' });
  t.throws(() => openJson({ ...sealed, kdf: { ...sealed.kdf, N: 1024 } }, 'media password', AAD), { code: 'tampered', message: /key derivation/ }, 'weak parameters are refused');
  t.throws(() => sealJson(value, 'short', AAD), { code: 'invalid' });
});

t.test('media scripts: iPXE settings are left for iPXE; nothing from outside can add commands', async (t) => {
  const target: ScriptTarget = { siteUrl: 'http://10.0.2.2:8080', mediaId: 'PS1M00001', architecture: 'x64', mediaForm: 'cd', route: { kind: 'plain', preferred: 'PS120001', unattended: false } };
  // Plain and sealed media alike name only their media; the site reads the rest from its record.
  t.equal(chainUrl(target, false), 'http://10.0.2.2:8080/api/v1/media/PS1M00001/boot.ipxe?mac=${netX/mac}&uuid=${osd-uuid}&arch=x64&mediaForm=cd');
  t.equal(chainUrl(target, true), 'http://10.0.2.2:8080/api/v1/media/PS1M00001/boot.ipxe?mac=${netX/mac}&uuid=${osd-uuid}&arch=x64&mediaForm=cd&uefi=true');
  t.equal(chainUrl({ ...target, route: { kind: 'plain', preferred: null, unattended: true } }, false), 'http://10.0.2.2:8080/api/v1/media/PS1M00001/boot.ipxe?mac=${netX/mac}&uuid=${osd-uuid}&arch=x64&mediaForm=cd');
  t.equal(chainUrl({ ...target, route: { kind: 'sealed' } }, false), 'http://10.0.2.2:8080/api/v1/media/PS1M00001/boot.ipxe?mac=${netX/mac}&uuid=${osd-uuid}&arch=x64&mediaForm=cd');
  const script = mediaScript(target, false);
  t.match(script, /iseq \$\{osd-uuid\} 00000000-0000-0000-0000-000000000000 && clear osd-uuid \|\|/, 'placeholder UUIDs are not sent');
  t.throws(() => chainUrl({ ...target, route: { kind: 'plain', preferred: 'X&unattended=true', unattended: false } }, false), { code: 'invalid' });
  t.throws(() => chainUrl({ ...target, siteUrl: 'http://x/${evil}' }, false), { code: 'invalid' });
  t.throws(() => chainUrl({ ...target, mediaId: 'a b', route: { kind: 'sealed' } }, false), { code: 'invalid' });
});

t.test('R-32 unpacking refuses entries that leave the folder, links and garbage', async (t) => {
  const make = async (entries: { name: string; type?: 'file' | 'symlink'; body?: string; linkname?: string }[]) => {
    const pack = tar.pack();
    for (const e of entries) pack.entry({ name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}) }, e.body ?? '');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
    return Buffer.concat(chunks);
  };
  const dir = tempDir(t);
  await t.rejects(unpackTar(Readable.from([await make([{ name: '../escape.txt', body: 'x' }])]), dir), { code: 'not-media', message: /outside the folder/ });
  await t.rejects(unpackTar(Readable.from([await make([{ name: 'a/../../b', body: 'x' }])]), dir), { code: 'not-media' });
  await t.rejects(unpackTar(Readable.from([await make([{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }])]), dir), { code: 'not-media', message: /symlink/ });
  await t.rejects(unpackTar(Readable.from([Buffer.alloc(700, 7)]), dir), { code: 'not-media' });
  t.notOk(existsSync(path.join(dir, '..', 'escape.txt')));
  t.equal(await unpackTar(Readable.from([await make([{ name: 'ok/file.txt', body: 'fine' }])]), dir), 1);
});

t.test('a missing program is a clear error with the apt-get command', async (t) => {
  t.throws(() => requireTool('osdeploy-no-such-tool'), { code: 'tool-missing', message: 'osdeploy-no-such-tool is not installed; install it with: apt-get install osdeploy-no-such-tool' });
  t.equal(TOOL_PACKAGES.xorriso, 'apt-get install xorriso isolinux', 'xorriso comes with isolinux (the BIOS loader and hybrid MBR)');
  await t.rejects(runTool('sh', ['-c', 'echo boom >&2; exit 3']), { code: 'tool-failed', message: 'sh exited with 3: boom' });
});
