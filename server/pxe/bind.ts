/**
 * Binding the responder's sockets, with an error that says which role and port failed, why, and
 * how to fix it — the usual first-run failure is port 67 needing root, or a DHCP server (dnsmasq,
 * another PXE service) already holding it.
 */
import type dgram from 'node:dgram';
import type { PxeRole } from './classify.js';

const ROLE_NAMES: Record<PxeRole, { title: string; env: string }> = {
  dhcp: { title: 'proxyDHCP', env: 'OSDEPLOY_DHCP_PORT' },
  pxe: { title: 'PXE boot server', env: 'OSDEPLOY_PXE_PORT' },
};

export class PxeBindError extends Error {
  override readonly name = 'PxeBindError';
  constructor(
    readonly role: PxeRole,
    readonly host: string,
    readonly port: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function bindErrorMessage(role: PxeRole, host: string, port: number, code: string, detail: string): string {
  const { title, env } = ROLE_NAMES[role];
  const where = `the ${title} port udp/${port} on ${host}`;
  const elsewhere = `or move it with ${env} (the ${role === 'dhcp' ? 'network then needs a DHCP relay or helper pointed at that port' : 'port clients use after the proxy offer'})`;
  if (code === 'EACCES' || code === 'EPERM') {
    return `PXE service cannot bind ${where}: permission denied (${code}). Ports below 1024 need privileges: run as root, `
      + `or grant Node the capability with \`sudo setcap cap_net_bind_service=+ep $(which node)\`, ${elsewhere}.`;
  }
  if (code === 'EADDRINUSE') {
    return `PXE service cannot bind ${where}: it is already in use (EADDRINUSE), probably by a DHCP server or another PXE service `
      + `(dnsmasq, isc-dhcp-server, WDS). Stop that program or its DHCP/proxy function, ${elsewhere}.`;
  }
  if (code === 'EADDRNOTAVAIL') {
    return `PXE service cannot bind ${where}: no local interface has that address (EADDRNOTAVAIL). Bind 0.0.0.0 or an address of this host.`;
  }
  return `PXE service cannot bind ${where}: ${detail} (${code}).`;
}

/** Binds `socket`; resolves once listening, rejects with a `PxeBindError`. */
export function bindSocket(socket: dgram.Socket, role: PxeRole, host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      socket.removeListener('listening', onListening);
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
      const code = err.code ?? 'EUNKNOWN';
      reject(new PxeBindError(role, host, port, code, bindErrorMessage(role, host, port, code, err.message)));
    };
    const onListening = () => {
      socket.removeListener('error', onError);
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    socket.bind({ port, address: host });
  });
}
