/**
 * pino JSON logs with child loggers per service (`{svc, mac, xid}`). Secrets never reach a
 * log line: authorization headers, tokens and every key that looks like a password are censored.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  '*.*.password',
  '*.runAsPassword',
  '*.domainJoinPassword',
  '*.productKey',
  'value',
  '*.value',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
