/**
 * Synchronous reads of distribution points, their tokens and holdings, for the one site module
 * still on `ctx.db` that needs them: the content section of a machine's policy
 * (site/content-policy.ts), built synchronously with the rest of it. Everything else, and every
 * write, goes through the repositories (site/repos/points.ts; store/sqlite/points.ts).
 */
export type { PointSecret } from '../site/repos/points.js';
export { sqliteHoldings as holdings, sqlitePoints as allPoints, sqlitePointSecret as pointSecret } from './sqlite/points.js';
