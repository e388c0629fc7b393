/** The TFTP service (SPEC R-21) and the pieces it is built from. */
export { startTftpService, type TftpService, type TftpServiceOptions } from './service.js';
export { RootedFileSource, PathRefusedError, pathSegments, type BootFileSource, type OpenFile, type PathRefusal } from './file-source.js';
export { ReadTransfer, type TransferAction, type TransferConfig, type TransferEvent, type TransferPhase } from './transfer.js';
export { negotiate, type Negotiated, type NegotiationLimits } from './negotiate.js';
export { netasciiFile } from './netascii.js';
export { systemClock, createUdpSocket, type Clock, type CreateSocket, type UdpSocket, type RemoteInfo } from './io.js';
