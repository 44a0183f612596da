import type { TestDnsServer } from '../helpers/dns-server.js';

export interface WireRecord {
  type: 'TXT' | 'CNAME';
  name: string;
  value: string;
  purpose: string;
  required: boolean;
  chunks?: string[];
}

/** Publishes records as a domain owner would (TXT as their 255-character strings), each name's TXT together. */
export function publish(dns: TestDnsServer, records: readonly WireRecord[]): void {
  const txt = new Map<string, string[][]>();
  for (const r of records) {
    if (r.type === 'CNAME') dns.set(r.name, { CNAME: r.value });
    else txt.set(r.name, [...(txt.get(r.name) ?? []), r.chunks ?? [r.value]]);
  }
  for (const [name, values] of txt) dns.set(name, { TXT: values });
}
