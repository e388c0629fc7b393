/** The TFTP codec: pure, Buffer in and out (DESIGN.md "Codecs are pure"). */
export * from './packet.js';
export { decodeTftp } from './decode.js';
export { encodeTftp, writeDataHeader, DATA_HEADER_BYTES } from './encode.js';
// eslint-disable-next-line no-restricted-imports -- bytes.ts is inside server/wire; the rule's '../*' pattern does not foresee codec subfolders.
export { WireError } from '../bytes.js';
