/**
 * The administrator commands, `osdeploy <noun> <verb>`: each talks to the HTTP API only
 * (--server/--token/--json, or OSDEPLOY_SERVER/OSDEPLOY_TOKEN/./data/admin.token).
 */
import type { Command } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerCollections } from './commands/collections.js';
import { registerComputers } from './commands/computers.js';
import { registerContent } from './commands/content.js';
import { registerDeployments } from './commands/deployments.js';
import { registerPoints } from './commands/points.js';
import { registerFolders } from './commands/folders.js';
import { registerBootImages } from './commands/boot-images.js';
import { registerMedia } from './commands/media.js';
import { registerSettings } from './commands/settings.js';
import { registerSecrets } from './commands/secrets.js';
import { registerStatus } from './commands/status.js';
import { registerTaskSequences } from './commands/task-sequences.js';
import { registerTokens } from './commands/tokens.js';

export function registerAdminCommands(program: Command): void {
  registerComputers(program);
  registerCollections(program);
  registerTaskSequences(program);
  registerFolders(program);
  registerContent(program);
  registerPoints(program);
  registerDeployments(program);
  // After computers and deployments: adds verbs to those nouns.
  registerStatus(program);
  registerSettings(program);
  registerTokens(program);
  registerMedia(program);
  registerBootImages(program);
  registerAudit(program);
  // Acts on a stopped service's data directory, not through the API.
  registerSecrets(program);
}
