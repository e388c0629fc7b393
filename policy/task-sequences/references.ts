/**
 * References (R-04): the content a task sequence needs — its boot image and whatever its
 * steps name, with applications' dependencies followed transitively — and the check that
 * names every reference that is missing or unusable.
 */
import { CONTENT_KIND_LABEL, type ContentIndex, type ContentInfo, type ContentKind } from '../content-refs.js';
import { PolicyError } from '../errors.js';
import { referencesOfStep, stepType, validateStepProperties } from '../steps/catalog.js';
import type { TaskSequence } from './model.js';
import { walk } from './tree.js';

export interface Reference {
  readonly kind: ContentKind;
  readonly id: string;
  /** Where it is named: `bootImage`, `<itemId>.<property>`, or `dependency of <id>`. */
  readonly via: string;
}

export interface ReferenceProblem {
  /** Where the problem is: `bootImage`, `<itemId>.<property>`, `<itemId>`, `dependency of <id>`. */
  readonly via: string;
  readonly kind: ContentKind | null;
  readonly id: string | null;
  readonly reason: string;
}

const problemAt = (ref: Reference, reason: string): ReferenceProblem => ({ via: ref.via, kind: ref.kind, id: ref.id, reason });

export interface ReferenceReport {
  readonly ok: boolean;
  /** Every content object needed, dependencies included, each once, in discovery order. */
  readonly content: readonly ContentInfo[];
  readonly problems: readonly ReferenceProblem[];
}

/** Types whose standard steps run in the boot image, so they cannot do without one. */
const NEEDS_BOOT_IMAGE = new Set(['installOs', 'buildCaptureOs', 'vhd']);

export function directReferences(ts: TaskSequence): Reference[] {
  const refs: Reference[] = [];
  if (ts.bootImageId) refs.push({ kind: 'bootImage', id: ts.bootImageId, via: 'bootImage' });
  for (const { item } of walk(ts.items)) {
    if (item.kind !== 'step' || !stepType(item.type)) continue;
    for (const r of referencesOfStep(item.type, item.properties)) refs.push({ kind: r.kind, id: r.id, via: `${item.id}.${r.property}` });
  }
  return refs;
}

export function needsBootImage(ts: TaskSequence): boolean {
  if (NEEDS_BOOT_IMAGE.has(ts.type)) return true;
  for (const { item } of walk(ts.items)) if (item.kind === 'step' && stepType(item.type)?.runsIn === 'bootImage') return true;
  return false;
}

export function checkReferences(ts: TaskSequence, index: ContentIndex): ReferenceReport {
  const problems: ReferenceProblem[] = [];
  const content = new Map<string, ContentInfo>();
  const visit = (ref: Reference): void => {
    const info = index.get(ref.id);
    if (!info) {
      problems.push(problemAt(ref, `${CONTENT_KIND_LABEL[ref.kind]} ${ref.id} does not exist`));
      return;
    }
    if (info.kind !== ref.kind) {
      problems.push(problemAt(ref, `${ref.id} is a ${CONTENT_KIND_LABEL[info.kind]}, not a ${CONTENT_KIND_LABEL[ref.kind]}`));
      return;
    }
    if (!info.usable) problems.push(problemAt(ref, `${CONTENT_KIND_LABEL[info.kind]} ${info.name} (${info.id}) is not usable: ${info.unusableReason ?? 'no reason given'}`));
    if (content.has(info.id)) return;
    content.set(info.id, info);
    for (const dep of info.dependencies ?? []) {
      const depInfo = index.get(dep);
      visit({ kind: depInfo?.kind ?? info.kind, id: dep, via: `dependency of ${info.id}` });
    }
  };
  if (!ts.bootImageId && needsBootImage(ts))
    problems.push({ via: 'bootImage', kind: 'bootImage', id: null, reason: 'a boot image is required: the task sequence has steps that run in the boot image' });
  for (const { item } of walk(ts.items)) {
    if (item.kind !== 'step') continue;
    try {
      validateStepProperties(item.type, item.properties);
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      problems.push({ via: item.id, kind: null, id: null, reason: `step "${item.name}": ${e.message}` });
    }
  }
  for (const ref of directReferences(ts)) visit(ref);
  return { ok: problems.length === 0, content: [...content.values()], problems };
}
