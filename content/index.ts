/** The content layer's public surface (DESIGN.md: content/ imports only policy/content-refs and Node). */
export * from './errors.js';
export * from './store.js';
export * from './fs-store.js';
export * from './memory-store.js';
export * from './paths.js';
export * from './model.js';
export * from './records.js';
export * from './walk.js';
export * from './library.js';
export * from './transfer.js';
export * from './distribution.js';
export * from './distribution-job.js';
export * from './http-range.js';
export * from './signed-url.js';
export * from './prestage.js';
export * from './prestage-import.js';
export * from './file-pump.js';
