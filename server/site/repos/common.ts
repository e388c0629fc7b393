/** Paging shared by the repositories: the site pages newest first, with the total that matched. */
export interface PageRequest {
  readonly offset: number;
  readonly limit: number;
}

/** Shaped like store/docs.ts's `Page`, so views can return either while the site moves over. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
}
