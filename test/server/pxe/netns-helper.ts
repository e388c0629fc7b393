/**
 * Child process for coexistence.test.ts, run inside a network namespace with `ip netns exec`
 * (Node cannot enter a namespace itself):
 *   --role responder --advertise A   our proxyDHCP service on 67/4011, debug logs on stdout
 *   --role pxe-client --fixture NAME  sends one golden DISCOVER from port 68 to 255.255.255.255:67,
 *                                     prints the replies it hears within two seconds as JSON
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../../../server/logger.js';
import { startPxeService } from '../../../server/pxe/service.js';
import { decodeDhcp, messageType, vendorClass } from '../../../server/wire/dhcp/index.js';
import { parseHex } from '../../fixtures/dhcp/builder.js';

const { values: args } = parseArgs({ options: { role: { type: 'string' }, advertise: { type: 'string' }, fixture: { type: 'string' } } });
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/dhcp');

if (args.role === 'responder') {
  const svc = await startPxeService({
    advertiseAddress: args.advertise!,
    httpPort: 8080,
    decide: async () => ({ answer: true }),
    settings: () => ({ enabled: true, responseDelaySeconds: 0 }),
    log: createLogger('debug'),
  });
  process.on('SIGTERM', () => void svc.close().then(() => process.exit(0)));
} else if (args.role === 'pxe-client') {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => socket.bind(68, '0.0.0.0', r));
  socket.setBroadcast(true);
  const replies: unknown[] = [];
  socket.on('message', (msg, from) => {
    const p = decodeDhcp(msg);
    if (p.op === 2) replies.push({ from: from.address, type: messageType(p), yiaddr: p.yiaddr, siaddr: p.siaddr, file: p.file, vendorClass: vendorClass(p) ?? null });
  });
  socket.send(parseHex(readFileSync(path.join(fixtures, `${args.fixture}.hex`), 'utf8')), 67, '255.255.255.255');
  setTimeout(() => {
    console.log(JSON.stringify(replies));
    socket.close();
  }, 2000);
}
