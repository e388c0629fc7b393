/** `osdeploy settings get|set`: high-risk deployment verification and PXE settings. */
import type { Command } from 'commander';
import { formatFields } from '../table.js';
import { CliError, defined, int, noun, oneOf, show, verb, type Opts } from '../runtime.js';

interface SiteSettings {
  readonly highRisk: { defaultSize: number; maxSize: number; siteSystems: string; warnOnServers: boolean };
  readonly pxe: { enabled: boolean; unknownComputerSupport: boolean; responseDelaySeconds: number; passwordRequired: boolean };
}

const onOff = oneOf(['on', 'off']);
const flag = (v: unknown): boolean | undefined => (v === undefined ? undefined : v === 'on');

const format = (s: SiteSettings): string =>
  formatFields([
    ['high-risk default size', s.highRisk.defaultSize],
    ['high-risk max size', s.highRisk.maxSize],
    ['site systems', s.highRisk.siteSystems],
    ['warn on servers', s.highRisk.warnOnServers],
    ['pxe', s.pxe.enabled],
    ['pxe unknown computers', s.pxe.unknownComputerSupport],
    ['pxe response delay (s)', s.pxe.responseDelaySeconds],
    ['pxe password required', s.pxe.passwordRequired],
  ]);

function patchOf(o: Opts): Record<string, unknown> {
  const highRisk = defined({ defaultSize: o.defaultSize, maxSize: o.maxSize, siteSystems: o.siteSystems, warnOnServers: flag(o.warnOnServers) });
  const pxe = defined({ enabled: flag(o.pxe), unknownComputerSupport: flag(o.pxeUnknown), responseDelaySeconds: o.pxeDelay });
  const body = defined({ highRisk: Object.keys(highRisk).length ? highRisk : undefined, pxe: Object.keys(pxe).length ? pxe : undefined });
  if (Object.keys(body).length === 0) throw new CliError('give at least one setting to change; see osdeploy settings set --help');
  return body;
}

export function registerSettings(program: Command): void {
  const settings = noun(program, 'settings', 'site settings: high-risk deployment verification and PXE');

  verb(settings, 'get', 'show the site settings', async (run) => {
    show(run, await run.api.get<SiteSettings>('/settings'), format);
  });

  verb(settings, 'set', 'change site settings (only the flags given)', async (run) => {
    show(run, await run.api.patch<SiteSettings>('/settings', patchOf(run.opts)), (s) => `settings updated\n${format(s)}`);
  })
    .option('--default-size <n>', 'high-risk: warn above this many members', int(0))
    .option('--max-size <n>', 'high-risk: refuse above this many members', int(0))
    .option('--site-systems <mode>', 'high-risk: collections with site systems: block or warn', oneOf(['block', 'warn']))
    .option('--warn-on-servers <on|off>', 'high-risk: warn when the collection contains servers', onOff)
    .option('--pxe <on|off>', 'answer PXE requests', onOff)
    .option('--pxe-unknown <on|off>', 'answer unknown computers (R-17, R-18)', onOff)
    .option('--pxe-delay <n>', 'seconds to wait before answering PXE, 0..32', int(0, 32));
}
