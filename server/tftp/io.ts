/**
 * The seams the TFTP service is built on, injectable for tests (DESIGN.md lesson 9): a clock
 * for retransmission timers and a UDP socket factory (a test can wrap the real socket to drop or
 * reorder datagrams).
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

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

export const createUdpSocket: CreateSocket = (type) => dgram.createSocket({ type });

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
