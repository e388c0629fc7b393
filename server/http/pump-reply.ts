/**
 * A byte range of an open file as a reply's body, pumped straight into the socket through two
 * reused buffers (content/file-pump.ts): the reply is hijacked, so the status and headers set on
 * it so far are written here. Used by `/content/…` and `/boot/…`.
 */
import type { FastifyReply } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { pumpFile, type PumpSource } from '../../content/file-pump.js';

export async function pumpToReply(reply: FastifyReply, source: PumpSource, start: number, end: number, close: () => Promise<void>, what: string): Promise<FastifyReply> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  try {
    await pumpFile(source, start, end, res);
    res.end();
  } catch (err) {
    // Headers are gone already: the only honest signal left is a cut connection.
    if (!res.destroyed) reply.log.warn({ err }, `${what} transfer stopped`);
    res.destroy();
  } finally {
    await close();
  }
  return reply;
}
