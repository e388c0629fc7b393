/** The DHCP codec: pure, Buffer in and out (DESIGN.md "Codecs are pure"). */
export * from './packet.js';
export { decodeDhcp } from './decode.js';
export { encodeDhcp } from './encode.js';
export * from './options.js';
export * from './pxe-vendor.js';
export { decodeSubOptions, encodeSubOptions, subOptionData, type SubOption, type SubOptionFraming } from './sub-options.js';
export { ipAt, ipOctets, isIpv4, ZERO_ADDRESS } from './ipv4.js';
export { formatDhcp } from './format.js';
export { WireError } from '../bytes.js';
