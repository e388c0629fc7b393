/**
 * The import plan: every object in an export file with the action the import will take.
 * Create New for objects this site never saw; for one already here, Ignore Duplicate (the
 * default: the existing object is linked in its place) or Overwrite — applications are
 * overwritten by adding a revision, or imported as a new application instead. The caller may
 * change actions; `withActions` refuses any this object does not offer, naming it.
 */
import type { ContentKind } from '../content-refs.js';
import { invalid } from '../errors.js';

export const IMPORT_ACTIONS = ['create', 'ignore', 'overwrite', 'new-revision'] as const;
export type ImportAction = (typeof IMPORT_ACTIONS)[number];

export const ACTION_LABEL: Record<ImportAction, string> = {
  create: 'Create New',
  ignore: 'Ignore Duplicate',
  overwrite: 'Overwrite',
  'new-revision': 'Overwrite (add a revision)',
};

/** What an export file holds: task sequences and the content kinds they reference. */
export type ExportedType = 'taskSequence' | ContentKind;

/** Where an object came from: the exporting site and the id it had there. Stable across exports. */
export interface Origin {
  readonly siteCode: string;
  readonly id: string;
}

export interface Existing {
  readonly id: string;
  readonly name: string;
  /** `previous-import`: an earlier import made or linked it; `same-object`: exported from this very site. */
  readonly matchedBy: 'previous-import' | 'same-object';
}

export interface PlanObject {
  /** The object's key in the file (its id at the exporting site); actions are given by key. */
  readonly key: string;
  readonly type: ExportedType;
  readonly name: string;
  readonly existing: Existing | null;
  readonly allowed: readonly ImportAction[];
  readonly action: ImportAction;
}

/** What the plan needs to know about this site; the server answers from its database. */
export interface SiteLookup {
  readonly siteCode: string;
  /** The object an earlier import made from (or linked to) `origin`, if it still exists. */
  linked(origin: Origin): { readonly id: string; readonly type: ExportedType; readonly name: string } | undefined;
  /** This site's object with `id`, with its content's current manifest hash (null: no version). */
  byId(id: string): { readonly type: ExportedType; readonly name: string; readonly manifestSha256: string | null } | undefined;
}

export interface Candidate {
  readonly type: ExportedType;
  readonly name: string;
  readonly origin: Origin;
  /** Content only: the exported version's manifest hash. */
  readonly manifestSha256?: string | null;
}

/**
 * Finds this site's copy of an exported object. First by the link an earlier import left;
 * then, for a file exported from a site with this site code, the object with the same id and
 * kind — but only when its name or its content is the same too, because every new site starts
 * as PS1 and "PS100004" at another PS1 is another object. Names alone never match: two sites'
 * "Windows 11" images need not be the same image.
 */
export function findExisting(c: Candidate, site: SiteLookup): Existing | null {
  const link = site.linked(c.origin);
  if (link && link.type === c.type) return { id: link.id, name: link.name, matchedBy: 'previous-import' };
  if (c.origin.siteCode !== site.siteCode) return null;
  const local = site.byId(c.origin.id);
  if (!local || local.type !== c.type) return null;
  const sameName = local.name.toLowerCase() === c.name.toLowerCase();
  const sameContent = c.manifestSha256 != null && local.manifestSha256 === c.manifestSha256;
  return sameName || sameContent ? { id: c.origin.id, name: local.name, matchedBy: 'same-object' } : null;
}

export function allowedActions(type: ExportedType, existing: Existing | null): readonly ImportAction[] {
  if (!existing) return ['create'];
  return type === 'application' ? ['ignore', 'new-revision', 'create'] : ['ignore', 'overwrite'];
}

export function planObject(key: string, c: Candidate, site: SiteLookup): PlanObject {
  const existing = findExisting(c, site);
  return { key, type: c.type, name: c.name, existing, allowed: allowedActions(c.type, existing), action: existing ? 'ignore' : 'create' };
}

function refusal(o: PlanObject, action: string): string {
  const what = `${o.type} ${o.name} (${o.key})`;
  if (!o.existing) return `${what} is not in this site yet; it can only be created (create)`;
  if (o.type === 'application' && action === 'overwrite') return `${what} is overwritten by adding a revision (new-revision), or imported as a new application (create)`;
  return `${what} already exists as ${o.existing.id}; choose ${o.allowed.join(' or ')}`;
}

/**
 * The plan with the caller's changes (`{ key: action }`). Every key must name an object of the
 * file and every action must be one that object offers; nothing changes unless all are valid.
 */
export function withActions(plan: readonly PlanObject[], changes: Readonly<Record<string, unknown>>): PlanObject[] {
  const byKey = new Map(plan.map((o) => [o.key, o]));
  for (const [key, action] of Object.entries(changes)) {
    const field = `actions.${key}`;
    const o = byKey.get(key);
    if (!o) throw invalid(`the file holds no object ${JSON.stringify(key)}; keys are ${[...byKey.keys()].join(', ')}`, field, 'R-28');
    if (typeof action !== 'string' || !(IMPORT_ACTIONS as readonly string[]).includes(action))
      throw invalid(`${JSON.stringify(action)} is not an action; one of ${IMPORT_ACTIONS.join(', ')}`, field, 'R-28');
    if (!o.allowed.includes(action as ImportAction)) throw invalid(refusal(o, action), field, 'R-28');
  }
  // Own keys only: a key like `constructor` must not pick up Object.prototype's.
  return plan.map((o) => (Object.hasOwn(changes, o.key) ? { ...o, action: changes[o.key] as ImportAction } : o));
}
