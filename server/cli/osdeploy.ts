#!/usr/bin/env node
/**
 * The `osdeploy` command: `osdeploy serve` runs the service; `osdeploy <noun> <verb>` talks
 * to its API (--server/--token or OSDEPLOY_SERVER/OSDEPLOY_TOKEN).
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, CONFIG_KEYS, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { handleSignals, startService } from '../main.js';
import { BOOT_FILE_NAMES, bootFileRoot, DEBIAN_IPXE_DIR, importBootFiles } from '../site/boot-files.js';
import { registerAdminCommands } from './admin.js';

export function buildProgram(): Command {
  const program = new Command('osdeploy').description('Operating-system deployment service').exitOverride();
  const serve = program.command('serve').description('run the service (API, content, boot roles) on the embedded site database');
  for (const spec of Object.values(CONFIG_KEYS)) if (spec.flag) serve.option(`--${spec.flag} <value>`, `(env ${spec.env})`);
  serve.option('--config <file>', 'JSON config file (env OSDEPLOY_CONFIG)');
  serve.action(async (opts: Record<string, string | undefined>) => {
    const flags: Record<string, string | undefined> = {};
    for (const spec of Object.values(CONFIG_KEYS)) if (spec.flag) flags[spec.flag] = opts[camel(spec.flag)];
    const config = loadConfig({ env: process.env, flags, ...(opts.config ? { file: opts.config } : {}) });
    const log = createLogger(config.logLevel);
    const service = await startService(config, log);
    handleSignals(service, log);
  });
  program
    .command('boot-files')
    .description('boot files (iPXE, wimboot) in the boot-file store DATA_DIR/tftproot')
    .command('import')
    .argument('[dir]', 'folder holding undionly.kpxe, ipxe.efi, snponly.efi, wimboot…', DEBIAN_IPXE_DIR)
    .option('--data-dir <dir>', 'data directory (env OSDEPLOY_DATA_DIR)')
    .action(async (dir: string, opts: { dataDir?: string }) => {
      const config = loadConfig({ env: process.env, flags: { 'data-dir': opts.dataDir } });
      const imported = await importBootFiles(dir, config.dataDir);
      if (imported.length === 0) throw new Error(`no known boot files in ${dir} (looked for ${BOOT_FILE_NAMES.join(', ')}); on Debian: apt-get install ipxe`);
      for (const f of imported) console.log(`${f.name.padEnd(18)} ${String(f.size).padStart(9)}  sha256 ${f.sha256}`);
      console.log(`imported ${imported.length} boot file(s) into ${bootFileRoot(config.dataDir)}`);
    });
  registerAdminCommands(program);
  return program;
}

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(e.exitCode);
    const err = e as Error & { code?: string };
    if (e instanceof ConfigError) console.error(`osdeploy: configuration error: ${err.message}`);
    else if (err.code === 'EADDRINUSE' || err.code === 'EACCES') console.error(`osdeploy: cannot listen: ${err.message}`);
    else console.error(`osdeploy: ${err.message}`);
    process.exit(2);
  }
}

await main();
