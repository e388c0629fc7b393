/**
 * Object ids. Each kind counts on its own (first collection PS100011, first deployment PS120001,
 * tokens t1, t2…), and one id space serves every kind: an id is claimed once, for one object of
 * one kind, and never handed out again, so two kinds whose formats overlap (collections PS1 +
 * hex(0x10 + n), packages and task sequences PS1 + hex(n)) never share an id.
 * Counters and claims are written in the caller's transaction: one that rolls back gives its
 * ids back (a refused deployment leaves no gap), and two writers on two nodes never get the same
 * id (the counter row's lock orders them).
 */
export const ID_KINDS = ['computer', 'collection', 'folder', 'package', 'deployment', 'token', 'media', 'point', 'pointGroup', 'distributionJob'] as const;
export type IdKind = (typeof ID_KINDS)[number];

export interface IdRepo {
  /**
   * The next id of `kind`: advances the kind's counter until `format(n)` is an id the site has
   * never claimed, and claims it.
   */
  claim(kind: IdKind, format: (n: number) => string): Promise<string>;
  /** Claims an id an object brings with it (a built-in collection or computer); nothing if held already. */
  hold(id: string, kind: IdKind): Promise<void>;
}

export function checkIdKind(kind: string): asserts kind is IdKind {
  if (!(ID_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown id kind ${JSON.stringify(kind)}; one of ${ID_KINDS.join(', ')}`);
}

