/** The TFTP codec: pure, Buffer in and out (DESIGN.md "Codecs are pure"). */
export * from './packet.js';
export { decodeTftp, ackBlockOf } from './decode.js';
export { encodeTftp, writeDataHeader, DATA_HEADER_BYTES } from './encode.js';
export { WireError } from '../bytes.js';
