/**
 * The Inbound parser: one raw RFC 5322 message -> the JSON body of its Inbound POST
 * (docs/inbound-payload.md). The work runs on parser threads (parse-worker.ts) so that a 50 MB
 * message never stalls the event loop.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { DnsLookup } from '../../dns/lookup.js';
import { ParsePool } from './pool.js';

export interface InboundEnvelope {
  serverId: number;
  secretKey: string;
  mailFrom: string;
  rcptTo: string;
  remoteIp: string;
  heloName: string | null;
  receivedAt: number;
}

export interface InboundParser {
  /** The UTF-8 JSON body of the Inbound POST for one raw message. Malformed MIME still yields a
   *  best-effort body with ErrorLog set; rejects only on an internal failure (e.g. a crashed thread, which is replaced).
   *  The parser thread works on a copy of `raw`; the caller's Buffer is left as it was. */
  build(raw: Buffer, env: InboundEnvelope): Promise<Buffer>;
  close(): Promise<void>;
}

export interface InboundParserOptions {
  /** Not used for the checks (they run on the parser threads, which cannot call into this thread):
   *  kept so callers pass the same lookup they use elsewhere. The threads resolve through `dnsServers`. */
  dns: DnsLookup;
  /** This MTA's name: the authserv-id of the Authentication-Results header. */
  hostname: string;
  /** Parser threads; default 2 (1 on a single core): on two cores one thread was the bottleneck of the pipeline (BENCHMARKS.md). */
  threads?: number;
  /** DNS servers for SPF/DKIM/DMARC/ARC lookups on the parser threads (cfg.dnsServers, POSTLINE_DNS_SERVERS); empty or absent: the system's resolvers. */
  dnsServers?: readonly string[];
  /** A message taking longer than this is taken for a stuck thread, which is replaced (default 120 s). */
  taskTimeoutMs?: number;
}

/**
 * The compiled thread file. From dist/ it sits beside this module; under vitest this module is the
 * TypeScript source, which a thread cannot load, so the built file in dist/ is used (as the DKIM
 * signing threads do: build first).
 */
export function parseWorkerFile(): string {
  const beside = fileURLToPath(new URL('./parse-worker.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const built = beside.replace(/([\\/])src([\\/]inbound[\\/]parse[\\/]parse-worker\.js)$/, '$1dist$2');
  if (existsSync(built)) return built;
  throw new Error(`inbound parser thread not found at ${beside} or ${built}: build first (npx tsc -p tsconfig.json)`);
}

export function createInboundParser(opts: InboundParserOptions): InboundParser {
  const pool = new ParsePool({
    workerFile: parseWorkerFile(),
    threads: opts.threads ?? (availableParallelism() <= 1 ? 1 : 2),
    data: { dnsServers: [...(opts.dnsServers ?? [])], hostname: opts.hostname },
    taskTimeoutMs: opts.taskTimeoutMs ?? 120_000,
  });
  return {
    build: (raw, env) =>
      pool.run(raw, {
        serverId: env.serverId,
        secretKey: env.secretKey,
        mailFrom: env.mailFrom,
        rcptTo: env.rcptTo,
        remoteIp: env.remoteIp,
        heloName: env.heloName,
      }),
    close: () => pool.close(),
  };
}
