/** Site settings: high-risk deployment verification and PXE settings. */
import { validateHighRiskSettings } from '../../policy/deployments/high-risk.js';
import { invalid } from '../../policy/errors.js';
import { DEFAULT_PXE_SETTINGS, type PxeSettings, type SiteSettings } from '../../policy/site.js';
import { audit, readSettings, transact, type SiteContext } from './context.js';
import { hasPxePassword, storePxePassword, validatePxePassword } from './pxe-password.js';
import { SITE_SETTINGS } from './repos/changes.js';

function validatePxe(input: unknown, current: PxeSettings): PxeSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('pxe must be an object', 'pxe');
  const { password: _password, ...rest } = input as Record<string, unknown>;
  const o = { ...current, ...rest } as Record<string, unknown>;
  for (const k of Object.keys(rest)) if (!(k in DEFAULT_PXE_SETTINGS)) throw invalid(`pxe.${k} is not a setting`, `pxe.${k}`);
  for (const k of ['enabled', 'unknownComputerSupport', 'passwordRequired'] as const)
    if (typeof o[k] !== 'boolean') throw invalid(`pxe.${k} must be true or false`, `pxe.${k}`);
  if (o.uefiX64BootFile !== 'ipxe.efi' && o.uefiX64BootFile !== 'snponly.efi') throw invalid('pxe.uefiX64BootFile must be ipxe.efi or snponly.efi', 'pxe.uefiX64BootFile');
  const delay = o.responseDelaySeconds;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > 32) throw invalid('pxe.responseDelaySeconds must be 0..32', 'pxe.responseDelaySeconds');
  return o as unknown as PxeSettings;
}

/** The settings as shown: the PXE password only as whether one is set, never its value or hash. */
export async function getSettings(ctx: SiteContext): Promise<SiteSettings & { pxe: { passwordSet: boolean } }> {
  const s = await readSettings(ctx.store);
  return { ...s, pxe: { ...s.pxe, passwordSet: await hasPxePassword(ctx.store.settings) } };
}

/** Writes the settings (the policy state hears of it when it commits, before this resolves). */
export async function updateSettings(ctx: SiteContext, actor: string, patch: { highRisk?: unknown; pxe?: unknown }): Promise<SiteSettings> {
  if (typeof patch !== 'object' || patch === null) throw invalid('body must be an object', 'body');
  for (const k of Object.keys(patch)) if (k !== 'highRisk' && k !== 'pxe') throw invalid(`${k} is not a settings group (highRisk, pxe)`, k);
  // pxe.password: a string sets it (and makes it required), null clears it; stored as a hash only.
  const pxePatch = patch.pxe as Record<string, unknown> | undefined;
  const password = pxePatch && typeof pxePatch === 'object' && 'password' in pxePatch ? (pxePatch.password === null ? null : validatePxePassword(pxePatch.password)) : undefined;
  return transact(ctx, async (tx) => {
    const current = await readSettings(tx);
    let pxe = patch.pxe === undefined ? current.pxe : validatePxe(patch.pxe, current.pxe);
    if (password !== undefined) {
      await storePxePassword(tx.settings, password);
      pxe = { ...pxe, passwordRequired: password !== null };
    }
    if (pxe.passwordRequired && !(await hasPxePassword(tx.settings))) throw invalid('pxe.passwordRequired needs a password: set pxe.password', 'pxe.password');
    const next: SiteSettings = {
      highRisk: patch.highRisk === undefined ? current.highRisk : validateHighRiskSettings({ ...current.highRisk, ...(patch.highRisk as object) }),
      pxe,
    };
    await tx.settings.put(SITE_SETTINGS, next);
    const passwordNote = password === undefined ? {} : { pxePassword: password === null ? 'cleared' : 'set' };
    await audit(tx, ctx, actor, { action: 'settings.updated', target: 'site', message: `Site settings changed: ${Object.keys(patch).join(', ')}`, details: { highRisk: next.highRisk, pxe: next.pxe, ...passwordNote } });
    return { ...next, pxe: { ...next.pxe, passwordSet: await hasPxePassword(tx.settings) } };
  });
}
