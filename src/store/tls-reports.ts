/**
 * TLS-RPT (RFC 8460, migration 28): what outbound sessions to domains with a TLS policy came to,
 * counted per UTC day, and the record of the daily reports sent from those counts.
 *
 * A day's counts are one row per policy seen for a domain (tls_report_policies: the report's
 * `policies[]`) and, under it, one row per result type, receiving MX, receiving IP and sending
 * IP with a session count (tls_report_results), added to as collectors in any process flush.
 * A report is sent once per (day, policy domain): a process claims the tls_report_sends row
 * with one atomic upsert before sending, so processes sharing PostgreSQL never both send it; a
 * claim lapses after its lease (the process died mid-send) and is then taken over.
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, TlsReportSendsTable } from './schema.js';
import { retryConflicts } from './conflict-retry.js';

/** One line of counts as a collector flushes it: `sessions` more sessions of this kind on `day`. */
export interface TlsResultCount {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  policyDomain: string;
  policyType: string;
  policyString: readonly string[];
  mxHost: readonly string[];
  resultType: string;
  receivingMxHostname: string | null;
  receivingIp: string | null;
  sendingMtaIp: string | null;
  /** The latest detail given for such a session wins; it is not part of the key (free text would split the counts without end). */
  detail: string | null;
  sessions: number;
}

export interface TlsResultRow {
  resultType: string;
  receivingMxHostname: string | null;
  receivingIp: string | null;
  sendingMtaIp: string | null;
  detail: string | null;
  sessions: number;
}

/** One policy seen for a domain on a day, with its counted results: one entry of a report's `policies[]`. */
export interface TlsPolicyDay {
  policyType: string;
  policyString: string[];
  mxHost: string[];
  results: TlsResultRow[];
}

/**
 * - sending: claimed by `claimedBy` until `claimedUntil`.
 * - retry: a rua (or the DNS lookup) failed; due again at `nextAttemptAt`.
 * - sent: every rua took the report. no-record: the domain publishes no TLS-RPT record.
 * - gave-up: still failing after the job's last attempt.
 */
export type TlsReportSendState = 'sending' | 'retry' | 'sent' | 'no-record' | 'gave-up';
/** Where a report went and what came of it, the latest try per rua. */
export interface TlsRuaOutcome {
  rua: string;
  ok: boolean;
  detail: string;
  at: number;
}
export interface TlsReportSend {
  day: string;
  policyDomain: string;
  /** Made at the first claim and kept: a retry sends the same report id, so a receiver can tell a repeat. */
  reportId: string;
  state: TlsReportSendState;
  attempts: number;
  claimedBy: string | null;
  claimedUntil: number | null;
  nextAttemptAt: number;
  outcomes: TlsRuaOutcome[];
  sentAt: number | null;
  updatedAt: number;
}

export interface TlsReportRepository {
  /** Adds the counts (session_count += n), in one transaction. */
  addCounts(counts: readonly TlsResultCount[]): Promise<void>;
  /**
   * (day, policy domain) pairs with counts on a day in [from, before) whose report is due at
   * `now`: never claimed, or a retry that is due, or a claim whose lease ran out. Oldest first.
   */
  dueReports(o: { from: string; before: string; now: number; limit: number }): Promise<{ day: string; policyDomain: string }[]>;
  /**
   * Claims the report of (day, policy domain) for `owner` until `leaseUntil`, counting an attempt,
   * when it is due (as dueReports says); undefined when another process holds it or it is done.
   * `reportId` is used only by the first claim.
   */
  claim(day: string, policyDomain: string, c: { owner: string; reportId: string; now: number; leaseUntil: number }): Promise<TlsReportSend | undefined>;
  /** The day's policies for the domain with their results, in a stable order. */
  policiesOf(day: string, policyDomain: string): Promise<TlsPolicyDay[]>;
  /** Ends `owner`'s claim; false when the claim is no longer its own (its lease ran out and it was taken over). */
  finish(
    day: string,
    policyDomain: string,
    owner: string,
    end: { state: Exclude<TlsReportSendState, 'sending'>; outcomes: TlsRuaOutcome[]; nextAttemptAt: number },
    now: number,
  ): Promise<boolean>;
  getSend(day: string, policyDomain: string): Promise<TlsReportSend | undefined>;
  /** Removes the counts and send records of days before `day`; how many policy-days went. */
  deleteBefore(day: string): Promise<number>;
}

/** Rows per INSERT: 7 values a row stays far below both dialects' parameter limits. */
const CHUNK_ROWS = 500;
const SEND_COLUMNS = [
  'day',
  'policy_domain',
  'report_id',
  'state',
  'attempts',
  'claimed_by',
  'claimed_until',
  'next_attempt_at',
  'outcomes',
  'sent_at',
  'updated_at',
] as const;

const toSend = (r: Selectable<TlsReportSendsTable>): TlsReportSend => ({
  day: r.day,
  policyDomain: r.policy_domain,
  reportId: r.report_id,
  state: r.state as TlsReportSendState,
  attempts: Number(r.attempts),
  claimedBy: r.claimed_by,
  claimedUntil: r.claimed_until === null ? null : Number(r.claimed_until),
  nextAttemptAt: Number(r.next_attempt_at),
  outcomes: JSON.parse(r.outcomes) as TlsRuaOutcome[],
  sentAt: r.sent_at === null ? null : Number(r.sent_at),
  updatedAt: Number(r.updated_at),
});

/**
 * A policy's identity within its day and domain: a digest, because an MTA-STS policy-string may
 * be long (RFC 8461 allows 64 KB) and a unique index over the text would not hold it.
 */
const policyKeyOf = (c: Pick<TlsResultCount, 'policyType' | 'policyString' | 'mxHost'>): string =>
  createHash('sha256')
    .update(JSON.stringify([c.policyType, c.policyString, c.mxHost]))
    .digest('hex');

/** '' stands for an absent host or address in the results' primary key, where NULLs would never be equal. */
const keyPart = (v: string | null): string => v ?? '';
const fromKeyPart = (v: string): string | null => (v === '' ? null : v);

const compare = (a: readonly (string | number)[], b: readonly (string | number)[]): number => {
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return 0;
};

/** TLS-RPT counts and report sends for both dialects. */
export class SqlTlsReportRepository implements TlsReportRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  async addCounts(counts: readonly TlsResultCount[]): Promise<void> {
    if (counts.length === 0) return;
    await retryConflicts(() => this.db.transaction().execute((trx) => addCounts(trx, counts)));
  }

  async dueReports(o: { from: string; before: string; now: number; limit: number }): Promise<{ day: string; policyDomain: string }[]> {
    const rows = await this.db
      .selectFrom('tls_report_policies as p')
      .select(['p.day', 'p.policy_domain'])
      .distinct()
      .where('p.day', '>=', o.from)
      .where('p.day', '<', o.before)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('tls_report_sends as s')
              .select(sql<number>`1`.as('one'))
              .whereRef('s.day', '=', 'p.day')
              .whereRef('s.policy_domain', '=', 'p.policy_domain')
              .where((eb) =>
                eb.or([
                  eb('s.state', 'in', ['sent', 'no-record', 'gave-up']),
                  eb.and([eb('s.state', '=', 'retry'), eb('s.next_attempt_at', '>', o.now)]),
                  eb.and([eb('s.state', '=', 'sending'), eb('s.claimed_until', '>', o.now)]),
                ]),
              ),
          ),
        ),
      )
      .orderBy('p.day')
      .orderBy('p.policy_domain')
      .limit(o.limit)
      .execute();
    return rows.map((r) => ({ day: r.day, policyDomain: r.policy_domain }));
  }

  async claim(day: string, policyDomain: string, c: { owner: string; reportId: string; now: number; leaseUntil: number }): Promise<TlsReportSend | undefined> {
    // One statement decides: the first claim inserts; a later one updates only a row that is due.
    // PostgreSQL evaluates the WHERE on the row's latest committed version under its lock, so
    // of two processes claiming at once exactly one gets a row back.
    const row = await this.db
      .insertInto('tls_report_sends')
      .values({
        day,
        policy_domain: policyDomain,
        report_id: c.reportId,
        state: 'sending',
        attempts: 1,
        claimed_by: c.owner,
        claimed_until: c.leaseUntil,
        next_attempt_at: c.now,
        outcomes: '[]',
        sent_at: null,
        updated_at: c.now,
      })
      .onConflict((oc) =>
        oc
          .columns(['day', 'policy_domain'])
          .doUpdateSet({
            state: 'sending',
            attempts: sql<number>`tls_report_sends.attempts + 1`,
            claimed_by: c.owner,
            claimed_until: c.leaseUntil,
            updated_at: c.now,
          })
          .where((eb) =>
            eb.or([
              eb.and([eb('tls_report_sends.state', '=', 'retry'), eb('tls_report_sends.next_attempt_at', '<=', c.now)]),
              eb.and([eb('tls_report_sends.state', '=', 'sending'), eb('tls_report_sends.claimed_until', '<=', c.now)]),
            ]),
          ),
      )
      .returning(SEND_COLUMNS)
      .executeTakeFirst();
    return row && toSend(row);
  }

  async policiesOf(day: string, policyDomain: string): Promise<TlsPolicyDay[]> {
    const rows = await this.db
      .selectFrom('tls_report_policies as p')
      .innerJoin('tls_report_results as r', 'r.policy_id', 'p.id')
      .select([
        'p.id',
        'p.policy_type',
        'p.policy_string',
        'p.mx_host',
        'r.result_type',
        'r.receiving_mx_hostname',
        'r.receiving_ip',
        'r.sending_mta_ip',
        'r.detail',
        'r.session_count',
      ])
      .where('p.day', '=', day)
      .where('p.policy_domain', '=', policyDomain)
      .orderBy('p.id')
      .orderBy('r.result_type')
      .orderBy('r.receiving_mx_hostname')
      .orderBy('r.receiving_ip')
      .orderBy('r.sending_mta_ip')
      .execute();
    const byPolicy = new Map<number, TlsPolicyDay>();
    for (const r of rows) {
      const id = Number(r.id);
      let p = byPolicy.get(id);
      if (!p) {
        p = { policyType: r.policy_type, policyString: JSON.parse(r.policy_string) as string[], mxHost: JSON.parse(r.mx_host) as string[], results: [] };
        byPolicy.set(id, p);
      }
      p.results.push({
        resultType: r.result_type,
        receivingMxHostname: fromKeyPart(r.receiving_mx_hostname),
        receivingIp: fromKeyPart(r.receiving_ip),
        sendingMtaIp: fromKeyPart(r.sending_mta_ip),
        detail: r.detail,
        sessions: Number(r.session_count),
      });
    }
    return [...byPolicy.values()];
  }

  async finish(
    day: string,
    policyDomain: string,
    owner: string,
    end: { state: Exclude<TlsReportSendState, 'sending'>; outcomes: TlsRuaOutcome[]; nextAttemptAt: number },
    now: number,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('tls_report_sends')
      .set({
        state: end.state,
        outcomes: JSON.stringify(end.outcomes),
        next_attempt_at: end.nextAttemptAt,
        claimed_by: null,
        claimed_until: null,
        updated_at: now,
        ...(end.state === 'sent' ? { sent_at: now } : {}),
      })
      .where('day', '=', day)
      .where('policy_domain', '=', policyDomain)
      .where('state', '=', 'sending')
      .where('claimed_by', '=', owner)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async getSend(day: string, policyDomain: string): Promise<TlsReportSend | undefined> {
    const row = await this.db
      .selectFrom('tls_report_sends')
      .select(SEND_COLUMNS)
      .where('day', '=', day)
      .where('policy_domain', '=', policyDomain)
      .executeTakeFirst();
    return row && toSend(row);
  }

  async deleteBefore(day: string): Promise<number> {
    return retryConflicts(() =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom('tls_report_results')
          .where('policy_id', 'in', trx.selectFrom('tls_report_policies').select('id').where('day', '<', day))
          .execute();
        const r = await trx.deleteFrom('tls_report_policies').where('day', '<', day).executeTakeFirst();
        await trx.deleteFrom('tls_report_sends').where('day', '<', day).execute();
        return Number(r.numDeletedRows);
      }),
    );
  }
}

/**
 * The policies first (their ids key the results), then the results, each in sorted key order:
 * two processes flushing the same keys lock the rows in the same order and never deadlock.
 */
async function addCounts(trx: Transaction<Database>, counts: readonly TlsResultCount[]): Promise<void> {
  const policies = new Map<string, { day: string; domain: string; key: string; c: TlsResultCount }>();
  const keyed = counts.map((c) => {
    const key = policyKeyOf(c);
    const id = `${c.day}\u0000${c.policyDomain}\u0000${key}`;
    if (!policies.has(id)) policies.set(id, { day: c.day, domain: c.policyDomain, key, c });
    return { id, c };
  });
  const ordered = [...policies.values()].sort((a, b) => compare([a.day, a.domain, a.key], [b.day, b.domain, b.key]));
  const ids = new Map<string, number>();
  for (let i = 0; i < ordered.length; i += CHUNK_ROWS) {
    const rows = await trx
      .insertInto('tls_report_policies')
      .values(
        ordered.slice(i, i + CHUNK_ROWS).map((p) => ({
          day: p.day,
          policy_domain: p.domain,
          policy_key: p.key,
          policy_type: p.c.policyType,
          policy_string: JSON.stringify(p.c.policyString),
          mx_host: JSON.stringify(p.c.mxHost),
        })),
      )
      // A no-op update rather than DO NOTHING, so RETURNING gives the id of an existing row too.
      .onConflict((oc) => oc.columns(['day', 'policy_domain', 'policy_key']).doUpdateSet((eb) => ({ policy_type: eb.ref('excluded.policy_type') })))
      .returning(['id', 'day', 'policy_domain', 'policy_key'])
      .execute();
    for (const r of rows) ids.set(`${r.day}\u0000${r.policy_domain}\u0000${r.policy_key}`, Number(r.id));
  }

  // One row per key: an INSERT ... ON CONFLICT may not touch the same row twice.
  const results = new Map<string, { key: [number, string, string, string, string]; detail: string | null; sessions: number }>();
  for (const { id, c } of keyed) {
    const key: [number, string, string, string, string] = [
      ids.get(id)!,
      c.resultType,
      keyPart(c.receivingMxHostname),
      keyPart(c.receivingIp),
      keyPart(c.sendingMtaIp),
    ];
    const k = key.join('\u0000');
    const cur = results.get(k);
    if (cur) {
      cur.sessions += c.sessions;
      cur.detail = c.detail ?? cur.detail;
    } else results.set(k, { key, detail: c.detail, sessions: c.sessions });
  }
  const rows = [...results.values()].sort((a, b) => compare(a.key, b.key));
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    await trx
      .insertInto('tls_report_results')
      .values(
        rows.slice(i, i + CHUNK_ROWS).map((r) => ({
          policy_id: r.key[0],
          result_type: r.key[1],
          receiving_mx_hostname: r.key[2],
          receiving_ip: r.key[3],
          sending_mta_ip: r.key[4],
          detail: r.detail,
          session_count: r.sessions,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['policy_id', 'result_type', 'receiving_mx_hostname', 'receiving_ip', 'sending_mta_ip']).doUpdateSet({
          session_count: sql<number>`tls_report_results.session_count + excluded.session_count`,
          detail: sql<string | null>`COALESCE(excluded.detail, tls_report_results.detail)`,
        }),
      )
      .execute();
  }
}
