/**
 * Object ids: one id space serves every object kind of a site, so no two objects of a site ever
 * share a number, whatever their kind. The site formats the number (`t42`, `PS100002A`…).
 * The number comes from a counter row updated in the caller's transaction: a transaction that
 * rolls back gives its numbers back (a refused deployment leaves no gap), and two writers on
 * two nodes never get the same number (the row lock orders them).
 */
export const ID_KINDS = ['computer', 'collection', 'folder', 'package', 'deployment', 'token', 'media', 'point', 'pointGroup', 'distributionJob'] as const;
export type IdKind = (typeof ID_KINDS)[number];

export interface IdRepo {
  /** The next number of the site's id space, greater than every number handed out before. */
  next(kind: IdKind): Promise<number>;
}

export function checkIdKind(kind: string): asserts kind is IdKind {
  if (!(ID_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown id kind ${JSON.stringify(kind)}; one of ${ID_KINDS.join(', ')}`);
}
