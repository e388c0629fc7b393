/**
 * Where secrets meet unproven boots (issue 13, R-18): a deployment available to PXE whose task
 * sequence carries step secrets, or whose collection has hidden variables, gives them only to a
 * boot that proved itself. With no PXE password no PXE boot can, and a deployment to Unknown
 * Computers is exactly what PXEThief-style attacks go after: the site says so where an
 * administrator looks (the deployment's answer, /api/v1/settings, /healthz).
 */
import { ALL_UNKNOWN_COMPUTERS_ID } from '../../policy/collections.js';
import { isMediaOrPxe, type Deployment } from '../../policy/deployments/model.js';
import type { Site } from '../../policy/site.js';
import type { SiteContext } from './context.js';
import { secretsOf } from './media-policy.js';

/** Whether a deployment's collection holds the Unknown Computer objects (All Unknown Computers, or a collection including them). */
function targetsUnknown(site: Site, d: Deployment): boolean {
  if (d.collectionId === ALL_UNKNOWN_COMPUTERS_ID) return true;
  return Object.values(site.unknownComputer).some((c) => (site.collectionsOf.get(c.id) ?? []).includes(d.collectionId));
}

export function deploymentSecretWarning(ctx: SiteContext, d: Deployment): string | null {
  if (!isMediaOrPxe(d.availability) || ctx.snapshot.pxePasswordSet) return null;
  const site = ctx.snapshot.get();
  const ts = site.taskSequences.get(d.taskSequenceId);
  if (!ts) return null;
  const variables = site.collections.get(d.collectionId)?.variables ?? [];
  const secrets = secretsOf(ts, variables);
  if (secrets.length === 0) return null;
  const who = targetsUnknown(site, d) ? 'Unknown Computers (any machine on the network can claim to be one)' : `collection ${d.collectionId}`;
  return `deployment ${d.id} gives secrets (${secrets.join(', ')}) to ${who} and no PXE password is set: PXE boots cannot prove themselves, so the site withholds those secrets from them; set a PXE password (PATCH /api/v1/settings {"pxe":{"password":…}}, R-18) or use password-protected media`;
}

export function secretWarnings(ctx: SiteContext): string[] {
  if (ctx.snapshot.pxePasswordSet) return [];
  const out: string[] = [];
  for (const d of ctx.snapshot.get().deployments.values()) {
    const w = deploymentSecretWarning(ctx, d);
    if (w) out.push(w);
  }
  return out;
}
