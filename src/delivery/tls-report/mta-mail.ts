import { domainOf } from '../../core/address.js';
import type { MxResolver } from '../mx.js';
import type { SmtpPool } from '../smtp-pool.js';
import type { TlsReportSendMail } from './job.js';

/**
 * Mailed TLS-RPT reports go out through the delivery role's own MX lookup and SMTP pool, once per
 * run (the job retries a failed rua on its next run). No TLS policy is applied to them: RFC 8460
 * §5.3 asks that a report reach a domain whose TLS is broken (that is what it reports), and so the
 * session is not counted in the next report either. DKIM-signed for the From domain where it has a key.
 */
export function mtaReportMailer(deps: {
  resolver: MxResolver;
  pool: SmtpPool;
  sign: (message: Buffer, fromDomain: string) => Promise<Buffer>;
}): TlsReportSendMail {
  return async (to, from, mime) => {
    try {
      const dest = await deps.resolver.resolve(domainOf(to));
      if (dest.kind !== 'hosts') return { ok: false, detail: dest.reason };
      const signed = await deps.sign(mime, domainOf(from));
      const r = await deps.pool.send(
        dest.hosts.map(({ tls: _policy, ...h }) => h),
        { from, to },
        signed,
      );
      if (r.kind === 'accepted') return { ok: true, detail: `${r.mx}: ${r.response}` };
      if (r.kind === 'rejected') return { ok: false, detail: `${r.mx}: ${r.code} ${r.response}` };
      return { ok: false, detail: 'error' in r ? r.error : `held: ${JSON.stringify(r)}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  };
}
