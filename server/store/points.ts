/**
 * Synchronous reads of distribution points, their tokens and holdings on a SQLite connection, for
 * tests and offline checks that read the rows as stored. The site goes through the repositories
 * (site/repos/points.ts; store/sqlite/points.ts).
 */
export type { PointSecret } from '../site/repos/points.js';
export { sqliteHoldings as holdings, sqlitePoints as allPoints, sqlitePointSecret as pointSecret } from './sqlite/points.js';
