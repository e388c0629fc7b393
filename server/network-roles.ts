/**
 * The boot roles beside the HTTP service: the TFTP server and the PXE responder. Standard ports
 * need privileges; where a bind is refused, the other roles still run and the log says which
 * role is down, why, and how to fix it.
 */
import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { BootFileSource } from './tftp/file-source.js';
import { startTftpService, type TftpService } from './tftp/service.js';
import { PxeBindError } from './pxe/bind.js';
import { startPxeService, type PxeService, type PxeServiceOptions } from './pxe/service.js';
import type { PxeSettings } from '../policy/site.js';

export type RoleState = 'up' | 'down' | 'disabled';

export interface RoleStatus {
  readonly role: 'tftp' | 'pxe';
  readonly state: RoleState;
  readonly detail: string;
}

/** The first non-internal IPv4 address: what PXE replies put in next-server and URLs. */
export function detectAdvertiseAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/**
 * Where the PXE responder (IPv4 only) listens, from the bind address (OSDEPLOY_BIND).
 *
 * - The wildcard (`0.0.0.0`, or `::`) hears everything, including the broadcast DHCPDISCOVERs of
 *   machines on the local segment: what a proxyDHCP normally needs.
 * - A specific IPv4 address limits both sockets (67 and 4011) to datagrams sent to that address.
 *   Linux hands a broadcast (255.255.255.255, or a subnet's) only to sockets bound to the
 *   wildcard, so the responder then answers DISCOVERs relayed to it (a DHCP relay or `ip
 *   helper-address` pointed at that address), unicast requests and port 4011 — not broadcasts on
 *   its own segment. Node cannot bind a UDP socket to an interface (SO_BINDTODEVICE), so "all of
 *   one interface" is not on offer. Its replies leave from that address.
 * - Anything else (an IPv6 address, a host name) cannot be applied to IPv4 sockets: the role is
 *   refused rather than silently widened to every address.
 */
export function pxeBindAddress(bind: string): { host: string; broadcasts: boolean } | { error: string } {
  if (bind === '0.0.0.0' || bind === '::') return { host: '0.0.0.0', broadcasts: true };
  if (isIPv4(bind)) return { host: bind, broadcasts: false };
  return {
    error: `the PXE responder is IPv4 only and cannot bind OSDEPLOY_BIND=${bind}; bind an IPv4 address or 0.0.0.0 (broadcasts from the local segment need 0.0.0.0), or set OSDEPLOY_PXE=off`,
  };
}

/** The address PXE replies advertise: the configured one, else the bind address when it is one IPv4 address, else detected. */
export function advertiseAddressOf(config: Pick<Config, 'advertiseAddress' | 'bind'>, detect: () => string = detectAdvertiseAddress): string {
  if (config.advertiseAddress) return config.advertiseAddress;
  const bound = pxeBindAddress(config.bind);
  return 'host' in bound && !bound.broadcasts ? bound.host : detect();
}

export function bindFailureHint(role: string, port: number, err: NodeJS.ErrnoException, envVar: string): string {
  const why =
    err.code === 'EACCES'
      ? `binding UDP port ${port} needs privileges`
      : err.code === 'EADDRINUSE'
        ? `UDP port ${port} is already in use by another program`
        : `binding UDP port ${port} failed (${err.code ?? err.message})`;
  const fix =
    err.code === 'EADDRINUSE'
      ? `stop the other server or set ${envVar} to another port`
      : `run as root, grant the capability (setcap cap_net_bind_service=+ep "$(command -v node)"), or set ${envVar} to a port above 1023`;
  return `${role} is down: ${why}; ${fix}`;
}

export interface NetworkRoles {
  readonly status: readonly RoleStatus[];
  readonly tftp: TftpService | null;
  close(): Promise<void>;
}

export async function startTftpRole(config: Config, source: BootFileSource, log: Logger): Promise<{ status: RoleStatus; service: TftpService | null }> {
  if (config.tftp === 'off') return { status: { role: 'tftp', state: 'disabled', detail: 'OSDEPLOY_TFTP=off' }, service: null };
  try {
    const service = await startTftpService({ port: config.tftpPort, host: config.bind === '::' ? '0.0.0.0' : config.bind, source, log: log.child({ svc: 'tftp' }), engine: config.tftpEngine });
    return { status: { role: 'tftp', state: 'up', detail: `UDP ${service.port}, ${service.engine} data path` }, service };
  } catch (e) {
    const detail = bindFailureHint('TFTP', config.tftpPort, e as NodeJS.ErrnoException, 'OSDEPLOY_TFTP_PORT');
    log.error({ svc: 'tftp', err: (e as Error).message }, detail);
    return { status: { role: 'tftp', state: 'down', detail }, service: null };
  }
}

export async function startPxeRole(
  config: Config,
  deps: { advertiseAddress: string; httpPort: number; settings: () => PxeSettings; decide: PxeServiceOptions['decide'] },
  log: Logger,
): Promise<{ status: RoleStatus; service: PxeService | null }> {
  if (config.pxe === 'off') return { status: { role: 'pxe', state: 'disabled', detail: 'OSDEPLOY_PXE=off' }, service: null };
  const bind = pxeBindAddress(config.bind);
  if ('error' in bind) {
    const detail = `PXE responder is down: ${bind.error}`;
    log.error({ svc: 'pxe', bind: config.bind }, detail);
    return { status: { role: 'pxe', state: 'down', detail }, service: null };
  }
  if (!bind.broadcasts && !bind.host.startsWith('127.')) {
    log.warn(
      { svc: 'pxe', bind: bind.host },
      `PXE responder bound to ${bind.host} (OSDEPLOY_BIND): it answers DHCP relays and requests sent to that address, not broadcast DISCOVERs on the local segment; bind 0.0.0.0 for those`,
    );
  }
  try {
    const service = await startPxeService({
      dhcpPort: config.dhcpPort,
      pxePort: config.pxePort,
      // The bind address applies here too (see pxeBindAddress for what a specific address means).
      host: bind.host,
      advertiseAddress: deps.advertiseAddress,
      httpPort: deps.httpPort,
      decide: deps.decide,
      settings: () => {
        const s = deps.settings();
        return { enabled: s.enabled, responseDelaySeconds: s.responseDelaySeconds, bootFiles: { uefiX64: s.uefiX64BootFile } };
      },
      log: log.child({ svc: 'pxe' }),
    });
    const where = bind.broadcasts ? '' : ` on ${bind.host} only (no local broadcasts)`;
    return { status: { role: 'pxe', state: 'up', detail: `UDP ${service.ports.dhcp} and ${service.ports.pxe}${where}, advertising ${deps.advertiseAddress}` }, service };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { port?: number };
    const detail = err instanceof PxeBindError ? `PXE responder is down: ${err.message}` : bindFailureHint('PXE responder', config.dhcpPort, err, 'OSDEPLOY_DHCP_PORT');
    log.error({ svc: 'pxe' }, detail);
    return { status: { role: 'pxe', state: 'down', detail }, service: null };
  }
}
