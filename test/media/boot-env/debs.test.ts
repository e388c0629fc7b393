/**
 * R-37 debs.ts without the network: package file names → versions (epochs as apt-get download
 * writes them, `%3a`), architecture-qualified names, and, where a previous build left Debian
 * packages in its cache, versions, hashes, the cache-hit path of fetchDebs and unpacking,
 * checked against dpkg-deb and sha256sum.
 */
import { copyFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { DebError, fetchDebs, qualified, sha256File, unpackDeb, versionOf } from '../../../media/boot-env/debs.js';
import { run, thrown, tmpDir, which } from './fixtures/host.js';

const CACHE = '/var/cache/osdeploy-e2e/boot-env-debs';
const cached = (() => {
  try {
    return readdirSync(CACHE).filter((f) => f.endsWith('.deb'));
  } catch {
    return [];
  }
})();
const skipCache = !cached.length ? `no cached Debian packages in ${CACHE} (a boot environment build fills it)` : which('dpkg-deb') ? false : 'no dpkg-deb';

t.test('R-37 versionOf: the version field of package_version_arch.deb, epochs decoded', async (t) => {
  t.equal(versionOf('busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb'), '1:1.35.0-4+deb12u1+b1', '%3a as apt-get download writes an epoch');
  t.equal(versionOf('busybox-static_1:1.35.0-4+deb12u1+b1_amd64.deb'), '1:1.35.0-4+deb12u1+b1', 'a literal colon as the cache keeps it');
  t.equal(versionOf('/var/cache/x/libdevmapper1.02.1_2%3A1.02.185-2_amd64.deb'), '2:1.02.185-2', 'a path; %3A in capitals');
  t.equal(versionOf('linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb'), '6.1.192-3', "'-' in the package name");
  t.equal(versionOf('tzdata_2025b-0+deb12u2_all.deb'), '2025b-0+deb12u2', 'arch all');
  t.equal(versionOf('libfoo_1.0~rc1_arm64.deb'), '1.0~rc1', 'tilde');
  t.ok((await thrown(() => versionOf('busybox.deb'))) instanceof DebError, 'no underscores: DebError');
  t.throws(() => versionOf('busybox_1.0.deb'), /not named package_version_arch\.deb/, 'no architecture');
});

t.test('R-37 qualified: the host architecture unqualified, another one as pkg:arch', async (t) => {
  t.equal(qualified('libc6', null), 'libc6');
  t.equal(qualified('libc6', 'arm64'), 'libc6:arm64');
  t.equal(qualified('grub-efi-arm64-bin', 'arm64'), 'grub-efi-arm64-bin:arm64');
});

t.test('R-37 versionOf of every cached package equals its control file Version (dpkg-deb -f)', { skip: skipCache }, async (t) => {
  for (const f of cached) {
    const [pkg, version] = run('dpkg-deb', ['-f', path.join(CACHE, f), 'Package', 'Version']).trim().split('\n').map((l) => l.replace(/^\w+: /, ''));
    t.equal(versionOf(f), version, `${f}: version`);
    t.equal(f.split('_')[0], pkg, `${f}: package name`);
  }
});

t.test('R-37 sha256File matches sha256sum; fetchDebs takes packages already in the cache without apt', { skip: skipCache || (which('sha256sum') ? false : 'no sha256sum') }, async (t) => {
  const small = [...cached].sort((a, b) => statSync(path.join(CACHE, a)).size - statSync(path.join(CACHE, b)).size).slice(0, 3);
  const cacheDir = tmpDir('debcache');
  t.teardown(() => rmSync(cacheDir, { recursive: true, force: true }));
  const files = [];
  for (const f of small) {
    copyFileSync(path.join(CACHE, f), path.join(cacheDir, f));
    const sum = run('sha256sum', [path.join(CACHE, f)]).split(' ')[0]!;
    t.equal(await sha256File(path.join(CACHE, f)), sum, `${f}: SHA256`);
    files.push({ pkg: f.split('_')[0]!, file: f, size: statSync(path.join(CACHE, f)).size, sha256: sum, uri: `http://deb.invalid/${f}` });
  }
  let fetched = 0;
  const got = await fetchDebs(files, cacheDir, null, () => fetched++);
  t.same(got, small.map((f) => path.join(cacheDir, f)), 'the cached paths, in the order given');
  t.equal(fetched, 0, 'nothing downloaded (deb.invalid would have failed)');
});

t.test('R-37 unpackDeb unpacks every file dpkg-deb -c lists', { skip: skipCache }, async (t) => {
  const deb = path.join(CACHE, [...cached].sort((a, b) => statSync(path.join(CACHE, a)).size - statSync(path.join(CACHE, b)).size)[0]!);
  const out = tmpDir('unpack');
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  await unpackDeb(deb, path.join(out, 'root'));
  const listed = run('dpkg-deb', ['-c', deb])
    .split('\n')
    .filter((l) => l.startsWith('-'))
    .map((l) => /\.\/(\S+)/.exec(l.slice(l.indexOf(' ./')))![1]!);
  t.ok(listed.length > 0, `${path.basename(deb)} lists ${listed.length} files`);
  for (const f of listed) t.ok(statSync(path.join(out, 'root', f)).isFile(), f);
  t.ok((await thrown(() => unpackDeb(path.join(out, 'missing.deb'), path.join(out, 'x')))) instanceof DebError, 'a missing package is a DebError');
});
