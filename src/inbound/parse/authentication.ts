/**
 * SPF, DKIM, DMARC and ARC verdicts for an inbound message (mailauth's authenticate()), in the
 * compact PascalCase shape the Inbound payload carries as `Authentication`. A lookup that fails
 * is mailauth's own temperror; anything that makes authenticate() itself throw turns every
 * verdict into temperror, so a DNS outage never costs the message its POST.
 */
// Before mailauth: its verifiers copy what this patches when they load.
import '../../patches/mailauth.js';
import { authenticate, type DNSResolver } from 'mailauth';

export interface AuthenticationResult {
  Spf: { Result: string; Domain: string | null };
  Dkim: { Result: string; Domain: string | null; Selector: string | null }[];
  Dmarc: { Result: string; Policy: string | null; Domain: string | null };
  Arc: { Result: string };
  /** The Authentication-Results header value mailauth wrote (without the field name), or null. */
  Header: string | null;
}

export interface AuthenticationInput {
  ip: string;
  helo: string | null;
  mailFrom: string;
  /** This MTA's name, the authserv-id of the Authentication-Results header. */
  mta: string;
  resolver: DNSResolver;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** temperror everywhere: what a receiver sees when the checks could not run. */
export function temperror(): AuthenticationResult {
  return {
    Spf: { Result: 'temperror', Domain: null },
    Dkim: [],
    Dmarc: { Result: 'temperror', Policy: null, Domain: null },
    Arc: { Result: 'temperror' },
    Header: null,
  };
}

/** Unfolds mailauth's header block and takes the Authentication-Results value. */
function authResultsHeader(block: string): string | null {
  const unfolded = block.replace(/\r?\n(?=[ \t])/g, '');
  const line = unfolded.split(/\r?\n/).find((l) => /^Authentication-Results:/i.test(l));
  return line ? line.replace(/^Authentication-Results:\s*/i, '') : null;
}

export async function authenticateMessage(raw: Buffer, input: AuthenticationInput): Promise<AuthenticationResult> {
  try {
    const res = await authenticate(raw, {
      ip: input.ip,
      helo: input.helo ?? undefined,
      sender: input.mailFrom,
      mta: input.mta,
      resolver: input.resolver,
      // BIMI is a display question for mailbox providers, not one a receiving application asks.
      disableBimi: true,
    });
    const spf = res.spf || null;
    const dmarc = res.dmarc || null;
    const arc = res.arc || null;
    return {
      Spf: { Result: spf?.status.result ?? 'none', Domain: str(spf?.domain) },
      Dkim: (res.dkim?.results ?? []).map((d) => ({
        Result: d.status.result,
        Domain: str(d.signingDomain),
        Selector: str(d.selector),
      })),
      Dmarc: { Result: dmarc ? dmarc.status.result : 'none', Policy: str(dmarc ? dmarc.policy : null), Domain: str(dmarc ? dmarc.domain : null) },
      Arc: { Result: arc ? arc.status.result : 'none' },
      Header: authResultsHeader(res.headers),
    };
  } catch {
    return temperror();
  }
}
