/**
 * What a committed transaction changed among the inputs of boot and client resolution, as the
 * store reports it to the policy state (../policy-state.ts). Writes to any other table (status,
 * tokens, audit, media, distribution) report nothing and cost the policy state nothing.
 */
export type PolicyTable = 'computers' | 'collections' | 'task_sequences' | 'deployments' | 'content';
export const POLICY_TABLES: ReadonlySet<string> = new Set<PolicyTable>(['computers', 'collections', 'task_sequences', 'deployments', 'content']);

export type StoreChange =
  /**
   * A document written or deleted. The writer passes what it wrote (`doc`: the object, or null
   * when deleted) so its own node applies it at once; a change heard from another node has no
   * `doc` (documents hold secrets and never travel in notices) and is read from the store.
   */
  | { readonly kind: 'doc'; readonly table: PolicyTable; readonly id: string; readonly doc?: object | null }
  /** The site settings row (`settings.name = 'site'`), with its new value when the writer knows it. */
  | { readonly kind: 'settings'; readonly value?: unknown }
  /** The PXE password was set or removed: whether PXE boots can prove themselves. */
  | { readonly kind: 'pxePassword'; readonly set: boolean }
  /** R-19 records: the pair was added (`present`) or removed. */
  | { readonly kind: 'pxeStart'; readonly computerId: string; readonly deploymentId: string; readonly present: boolean };

/** Called once per committed transaction that changed something, with its changes in order. */
export type CommitListener = (changes: readonly StoreChange[]) => void;

/** Where a repository notes a change it wrote; the store reports the notes when (and if) it commits. */
export type NoteChange = (change: StoreChange) => void;

/** A change without what it carried: safe to send to another node, which reads the rest itself. */
export function withoutData(c: StoreChange): StoreChange {
  if (c.kind === 'doc') return { kind: 'doc', table: c.table, id: c.id };
  if (c.kind === 'settings') return { kind: 'settings' };
  return c;
}

/** The settings row that is a policy input. */
export const SITE_SETTINGS = 'site';
/** The settings row that holds the PXE password's hash (only whether it exists is a policy input). */
export const PXE_PASSWORD = 'pxe-password';

/** What writing (`present`) or deleting the settings row `name` changes among the policy inputs. */
export function settingChange(name: string, present: boolean, value?: unknown): StoreChange | null {
  if (name === SITE_SETTINGS) return present && value !== undefined ? { kind: 'settings', value } : { kind: 'settings' };
  if (name === PXE_PASSWORD) return { kind: 'pxePassword', set: present };
  return null;
}
