/**
 * The real service for the qemu media tests: listening on every address (the guest reaches the
 * host at 10.0.2.2), PXE and TFTP off, its JSON log collected so a test can prove which requests
 * the machine made, and an admin `call` through `inject`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Test } from 'tap';
import { loadConfig } from '../../server/config.js';
import { startService, type Service } from '../../server/main.js';

export type LogEntry = { msg?: string; req?: { method?: string; url?: string }; res?: { statusCode?: number }; reqId?: string };

export interface LoggedService {
  readonly service: Service;
  readonly dataDir: string;
  readonly port: number;
  /** Every log line so far, parsed. */
  readonly lines: LogEntry[];
  call(method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> & { id?: string } }>;
}

export async function startLoggedService(t: Test, dir: string): Promise<LoggedService> {
  const lines: LogEntry[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as LogEntry);
      cb();
    },
  });
  const dataDir = path.join(dir, 'data');
  const flags = { 'data-dir': dataDir, 'http-port': '0', bind: '0.0.0.0', pxe: 'off', tftp: 'off', 'log-level': 'info' };
  const service = await startService(loadConfig({ flags }), pino({ level: 'info' }, sink));
  t.teardown(() => service.close());
  const admin = readFileSync(path.join(dataDir, 'admin.token'), 'utf8').trim();
  const call: LoggedService['call'] = async (method, url, body) => {
    const r = await service.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${admin}` }, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: r.statusCode, json: r.body ? JSON.parse(r.body) : {} };
  };
  return { service, dataDir, port: Number(new URL(service.url).port), lines, call };
}
