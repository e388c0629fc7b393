/**
 * The seams the TFTP service is built on, injectable for tests (DESIGN.md lesson 9): a clock
 * for retransmission timers and a UDP socket factory (a test can wrap the real socket to drop or
 * reorder datagrams).
 */
import dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type AddressInfo } from 'node:net';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface RemoteInfo {
  address: string;
  port: number;
  family?: string;
  size?: number;
}

/** `address:port` for logs, with IPv6 addresses in brackets (`[::1]:69`). */
export function endpoint(r: { address: string; port: number }): string {
  return r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
}

/** The part of `dgram.Socket` the service uses; a real socket satisfies it as is. */
export interface UdpSocket {
  bind(port: number, address: string, callback: () => void): unknown;
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  once(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
  send(msg: Buffer | readonly Buffer[], port: number, address: string, callback?: (err: Error | null) => void): void;
  address(): AddressInfo;
  close(callback?: () => void): void;
}

export type SocketType = 'udp4' | 'udp6';
export type CreateSocket = (type: SocketType) => UdpSocket;

/**
 * dgram resolves the destination of every `send` through `lookup`, and the default (dns.lookup)
 * defers even an IP literal to the next tick. Every address the service sends to came from a
 * received packet, so literals are answered at once (the last one remembered, since a transfer
 * socket talks to one client); anything else still goes to DNS.
 */
function literalLookup(): (address: string, family: unknown, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void) => void {
  let last = '';
  let lastFamily = 0;
  return (address, family, callback) => {
    if (address !== last) {
      lastFamily = isIP(address);
      last = lastFamily === 0 ? '' : address;
    }
    if (lastFamily !== 0) callback(null, address, lastFamily);
    else dnsLookup(address, family as number, callback);
  };
}

export const createUdpSocket: CreateSocket = (type) => dgram.createSocket({ type, lookup: literalLookup() as unknown as dgram.SocketOptions['lookup'] });

/** Binds `socket` to `host:port`, rejecting on a bind error instead of emitting it. */
export function bindSocket(socket: UdpSocket, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind(port, host, () => {
      socket.removeListener('error', onError);
      resolvePromise();
    });
  });
}
