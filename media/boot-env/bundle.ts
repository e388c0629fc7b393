/**
 * The two programs the boot environment runs, each bundled into one file: the task sequence
 * engine (media/engine/cli.ts) and the controller (runtime/controller.ts). `npm run build`
 * writes them to dist/boot-env/ with esbuild; a checkout without that build (tests run from
 * sources) bundles on first use into the cache folder, when esbuild is installed.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';

type EsbuildModule = typeof Esbuild;

export interface Bundles {
  readonly engine: string;
  readonly controller: string;
}

/** The package's root folder (the one holding package.json), from this file in media/ or dist/media/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('cannot find the osdeploy package root');
}

const ENTRIES = { engine: 'media/engine/cli.ts', controller: 'media/boot-env/runtime/controller.ts' } as const;

/** Bundles both programs from the TypeScript sources into `outDir` with esbuild. */
export async function bundle(outDir: string, root = packageRoot()): Promise<Bundles> {
  let esbuild: EsbuildModule;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new Error('the engine bundle is missing (dist/boot-env/engine.mjs) and esbuild is not installed to make it: run npm ci && npm run build');
  }
  mkdirSync(outDir, { recursive: true });
  const out = { engine: path.join(outDir, 'engine.mjs'), controller: path.join(outDir, 'controller.mjs') };
  for (const [name, entry] of Object.entries(ENTRIES) as [keyof Bundles, string][]) {
    await esbuild.build({
      entryPoints: [path.join(root, entry)],
      outfile: out[name],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      minify: true,
      legalComments: 'none',
      logLevel: 'error',
      // Bundled CommonJS dependencies (tar-stream's) call require(): give ESM output one.
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
  }
  return out;
}

/** The bundles of this installation: dist/boot-env/ when built, else made now into `cacheDir`. */
export async function findBundles(cacheDir: string): Promise<Bundles> {
  const root = packageRoot();
  const built = { engine: path.join(root, 'dist', 'boot-env', 'engine.mjs'), controller: path.join(root, 'dist', 'boot-env', 'controller.mjs') };
  const builtOk = existsSync(built.engine) && existsSync(built.controller);
  // From sources (tests, a development checkout): bundle what the sources say now.
  if (existsSync(path.join(root, ENTRIES.engine))) {
    try {
      return await bundle(path.join(cacheDir, 'bundles'), root);
    } catch (e) {
      if (!builtOk) throw e;
    }
  }
  if (!builtOk) throw new Error('the boot environment bundles are missing (dist/boot-env/*.mjs): run npm run build');
  return built;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]);
if (isMain) {
  // `node dist/media/boot-env/bundle.js`: part of `npm run build`.
  const root = packageRoot();
  const b = await bundle(path.join(root, 'dist', 'boot-env'), root);
  process.stdout.write(`bundled ${path.relative(root, b.engine)} and ${path.relative(root, b.controller)}\n`);
}
