/** Boot media: build, read back, inspect. */
export * from './model.js';
export * from './build.js';
export * from './content-source.js';
export * from './crypto.js';
export * from './efi-boot.js';
export * from './grub-config.js';
export { EFI_TARGETS, type EfiTarget } from './grub.js';
export * from './inspect.js';
export * from './iso.js';
export * from './read.js';
export * from './script.js';
export * from './archive.js';
export { firstPartition, PARTITION_OFFSET } from './disk.js';
export { ISO_EXPECTED, type ManifestCheck } from './manifest.js';
export { findTool, TOOL_PACKAGES } from './tools.js';
