/**
 * `policyDecider`: the `decide(facts)` the service calls, wired to boot resolution. A machine
 * with nothing to run — no deployment, unknown computer support off, or only a Required
 * deployment it already started from PXE — gets silence, so it boots from disk.
 */
import { resolveBoot } from '../../policy/resolve-boot.js';
import type { Site } from '../../policy/site.js';
import { bootFactsOf, type PxeFacts } from './classify.js';
import type { PxeDecision } from './offer.js';

export interface PolicyDeciderDeps {
  /** The current site snapshot (rebuilt by the site service after every change). */
  readonly site: () => Site;
  readonly now: () => number;
}

export function policyDecider(deps: PolicyDeciderDeps): (facts: PxeFacts) => Promise<PxeDecision> {
  return async (facts) => {
    const decision = resolveBoot(deps.site(), bootFactsOf(facts), deps.now());
    return decision.kind === 'nothing' ? { answer: false, reason: decision.reason } : { answer: true };
  };
}
