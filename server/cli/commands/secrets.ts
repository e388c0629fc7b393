/**
 * `osdeploy secrets rotate-key`: works on the data directory of a stopped service (like
 * `content prestage-import --data-dir`), not through the API: the key never crosses the network
 * and the service must not hold the old key while its secrets change (docs/security.md).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { rotateKey } from '../../store/secrets/rotate.js';
import { describeError, noun } from '../runtime.js';

export function registerSecrets(program: Command): void {
  const secrets = noun(program, 'secrets', 'secrets at rest: the key that encrypts step passwords, hidden variables and point tokens (R-31)');

  secrets
    .command('rotate-key')
    .description('make a new secret key and re-encrypt every stored secret with it, in one transaction (stop the service first)')
    .option('--data-dir <dir>', 'data directory (env OSDEPLOY_DATA_DIR)')
    .option('--secret-key-file <file>', 'the current key file when it is not DATA_DIR/secret.key (env OSDEPLOY_SECRET_KEY_FILE)')
    .option('--new-key-file <file>', 'where to write the new key when the current one comes from OSDEPLOY_SECRET_KEY or OSDEPLOY_SECRET_KEY_FILE')
    .option('--json', 'print the result as JSON')
    .action((opts: { dataDir?: string; secretKeyFile?: string; newKeyFile?: string; json?: boolean }) => {
      try {
        const config = loadConfig({ env: process.env, flags: { 'data-dir': opts.dataDir, 'secret-key-file': opts.secretKeyFile } });
        const r = rotateKey({ dataDir: config.dataDir, secretKey: config.secretKey, secretKeyFile: config.secretKeyFile, newKeyFile: opts.newKeyFile ?? null });
        if (opts.json) return void console.log(JSON.stringify(r, null, 2));
        console.log(`re-encrypted ${r.secrets} secret(s): key ${r.fromKeyId} → ${r.toKeyId}, now in ${r.keyFile} (mode 0600); back it up apart from the database`);
        if (r.fromEnvironment)
          console.log(`before the next start set OSDEPLOY_SECRET_KEY_FILE=${r.keyFile} (or OSDEPLOY_SECRET_KEY to its content) where the service runs; the old key opens nothing any more`);
      } catch (e) {
        console.error(describeError(e));
        process.exitCode = 1;
      }
    });
}
