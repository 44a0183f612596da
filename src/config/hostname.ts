import { isIP } from 'node:net';
import type { Config } from './load.js';

/**
 * Whether this host's name can be the name of an MX: the SMTP greeting, the HELO of delivery, the
 * Message-ID domain and (by default) the bounce domain, whose b+<id>@ addresses remote servers
 * send bounces to. Those need a fully qualified domain name; with `localhost` or a bare name
 * bounces never arrive and receivers distrust the greeting.
 */

/** The quick start's default: accepted with a warning, so `npm start` runs with no configuration. */
export const QUICK_START_HOSTNAME = 'localhost';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Why `name` is not a fully qualified domain name, or null when it is one. */
export function notFqdnReason(name: string): string | null {
  const bare = name.replace(/^\[(.*)\]$/, '$1');
  if (name === '') return 'it is empty';
  if (isIP(bare) !== 0) return 'it is an IP address';
  const lower = name.toLowerCase();
  if (lower === 'localhost' || lower.endsWith('.localhost') || lower === 'localhost.localdomain') return 'it is localhost';
  const labels = name.split('.');
  if (labels.length < 2) return 'it has no dot';
  if (name.length > 253 || !labels.every((l) => LABEL.test(l))) return 'it is not a valid domain name';
  if (/^\d+$/.test(labels[labels.length - 1]!)) return 'its last label is numeric';
  return null;
}

export interface HostnameCheck {
  /** One warning per name that is not fully qualified (logged as config.hostname_not_fqdn). */
  warnings: { key: string; value: string; reason: string }[];
  /** Set when the MX role must not start: the message says why and how to fix it. */
  refusal: { key: string; value: string; message: string } | null;
}

/**
 * The start-up decision for `postline serve`. Every name that is not fully qualified is warned
 * about. The smtp role (submission and MX listener) is refused on one unless the operator allows
 * it (POSTLINE_ALLOW_LOCAL_HOSTNAME), except for the quick start's `localhost` default on a port
 * other than 25: a name someone typed (`mybox`) is a mistake to stop on, the untouched default on
 * a development port is not, and an MX on port 25 faces the internet whatever its name.
 */
export function checkHostname(cfg: Pick<Config, 'hostname' | 'bounceDomain' | 'mxPort' | 'allowLocalHostname'>, smtpRole: boolean): HostnameCheck {
  const names: { key: string; value: string }[] = [{ key: 'POSTLINE_HOSTNAME', value: cfg.hostname }];
  if (cfg.bounceDomain !== null) names.push({ key: 'POSTLINE_BOUNCE_DOMAIN', value: cfg.bounceDomain });
  const warnings = names.flatMap((n) => {
    const reason = notFqdnReason(n.value);
    return reason === null ? [] : [{ ...n, reason }];
  });
  if (!smtpRole || cfg.allowLocalHostname) return { warnings, refusal: null };
  const blocking = warnings.find((w) => w.value.toLowerCase() !== QUICK_START_HOSTNAME || cfg.mxPort === 25);
  if (!blocking) return { warnings, refusal: null };
  return {
    warnings,
    refusal: {
      key: blocking.key,
      value: blocking.value,
      message:
        `not a fully qualified domain name (${blocking.reason}), which the MX listener (role smtp) needs: ` +
        `set ${blocking.key} to this host's public name (e.g. mta.example.com, with an A record), ` +
        'or set POSTLINE_ALLOW_LOCAL_HOSTNAME=true for a test setup (bounces sent to this name will not arrive from elsewhere)',
    },
  };
}
