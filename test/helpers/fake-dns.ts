import type { MxDns } from '../../src/delivery/mx.js';

/** The far end's DNS, faked: domain -> MX records (or A records when mx is empty). Unknown domains do not exist. */
export function fakeDns(zones: Record<string, { mx?: { exchange: string; priority: number }[]; a?: string[] }>): MxDns {
  const notFound = (d: string) => Object.assign(new Error(`queryMx ENOTFOUND ${d}`), { code: 'ENOTFOUND' });
  return {
    async resolveMx(d) {
      const z = zones[d];
      if (!z) throw notFound(d);
      if (!z.mx || z.mx.length === 0) throw Object.assign(new Error('ENODATA'), { code: 'ENODATA' });
      return z.mx;
    },
    async resolve4(d) {
      const z = zones[d];
      if (!z?.a) throw notFound(d);
      return z.a;
    },
    async resolve6(d) {
      throw notFound(d);
    },
  };
}
