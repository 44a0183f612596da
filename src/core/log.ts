import { pino, type Logger } from 'pino';

/** JSON logs on stdout (or the given stream); `event` fields name what happened (docs/logs.md). */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'postline' } }, destination ?? process.stdout);
}
export type { Logger };
