/**
 * The repository interfaces `server/site/` owns (DESIGN.md: `site/repositories.ts`), one file per
 * aggregate under repos/; this module is their single import point.
 */
export type * from './repos/audit.js';
export type * from './repos/collections.js';
export type * from './repos/common.js';
export type * from './repos/computers.js';
export type * from './repos/content.js';
export type * from './repos/deployments.js';
export type * from './repos/ids.js';
export type * from './repos/import-links.js';
export type * from './repos/media.js';
export type * from './repos/points.js';
export type * from './repos/settings.js';
export type * from './repos/status.js';
export type * from './repos/task-sequences.js';
export type * from './repos/store.js';
export type * from './repos/tokens.js';
