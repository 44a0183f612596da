import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { createLogger, type Logger } from '../../src/core/log.js';
import { SmtpClient } from '../../src/delivery/smtp-client.js';
import type { TlsReportSendMail } from '../../src/delivery/tls-report/job.js';
import type { LocalCa } from './local-ca.js';

/** RFC 8460 §4.4 as a JSON Schema (test/fixtures/tlsrpt/report.schema.json), compiled with ajv and its formats. */
export function tlsReportValidator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(new URL('../fixtures/tlsrpt/report.schema.json', import.meta.url), 'utf8')) as object);
}

export interface ReceivedReport {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * A TLS-RPT https receiver on 127.0.0.1 with a certificate from a test CA. `answer(path, n)`
 * scripts the status by path and the how-many-th POST to that path it is (from 1); 200 by default.
 * `/slow` never answers.
 */
export interface HttpsReportReceiver {
  port: number;
  received: ReceivedReport[];
  answer: (path: string, n: number) => number;
  close(): Promise<void>;
}

export async function startHttpsReportReceiver(ca: LocalCa): Promise<HttpsReportReceiver> {
  const { key, cert } = ca.issue(['127.0.0.1']);
  const counts = new Map<string, number>();
  const r: HttpsReportReceiver = { port: 0, received: [], answer: () => 200, close: async () => undefined };
  const server: Server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      if (path === '/slow') return; // never answered
      r.received.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const status = r.answer(path, n);
      res.writeHead(status, status >= 300 && status < 400 ? { location: 'https://127.0.0.1/elsewhere' } : {});
      res.end(status >= 400 ? 'receiver says no' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  r.port = typeof addr === 'object' && addr ? addr.port : 0;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

/** The job's sendMail, as the MTA will give it, here straight to one SMTP server (the test sink) with Postline's SMTP client. */
export function sendMailTo(port: number): TlsReportSendMail {
  return async (to, from, mime) => {
    const client = await SmtpClient.open({
      host: '127.0.0.1',
      port,
      heloName: 'mta.postline.test',
      opportunisticTls: false,
      connectionTimeoutMs: 5_000,
      greetingTimeoutMs: 5_000,
      replyTimeoutMs: 5_000,
    });
    try {
      const r = await client.send(from, to, mime);
      return { ok: r.kind === 'accepted', detail: r.reply.text };
    } finally {
      client.quit();
    }
  };
}

/** A debug-level logger whose JSON lines the test reads back. */
export function logSink(): { log: Logger; lines: Record<string, unknown>[]; events: (event: string) => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger('debug', stream), lines, events: (e) => lines.filter((l) => l.event === e) };
}
