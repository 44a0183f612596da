import type { PageProps } from '../app.js';
import { listServers } from '../api.js';
import { queueNow, statistics, type Scope, type Statistics, type StatisticsRange } from '../api/overview.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { formatCount } from '../ui/format.js';
import { LineChart } from '../ui/line-chart.js';
import { useLoad } from '../ui/use-load.js';

export const PERIODS = [
  { value: '24h', label: '24 hours', text: 'the last 24 hours', unit: 'hour' },
  { value: '7d', label: '7 days', text: 'the last 7 days', unit: 'day' },
  { value: '30d', label: '30 days', text: 'the last 30 days', unit: 'day' },
] as const;
type Period = (typeof PERIODS)[number]['value'];

const pad = (n: number) => String(n).padStart(2, '0');
/** The reader's local date as YYYY-MM-DD (the API reads it in the time zone sent along). */
const localDay = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function zone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * The range of a period, in the reader's time zone: the last 24 whole hours up to the current
 * one (hour buckets), or the last 7 / 30 local days including today (day buckets).
 */
export function rangeOf(period: Period, now = new Date()): StatisticsRange {
  const timeZone = zone();
  if (period === '24h') {
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { startDate: iso(now.getTime() - 24 * 3_600_000), endDate: iso(now.getTime()), bucket: 'hour', timeZone };
  }
  const days = period === '7d' ? 7 : 30;
  const first = new Date(now.getFullYear(), now.getMonth(), now.getDate() - (days - 1));
  return { startDate: localDay(first), endDate: localDay(now), bucket: 'day', timeZone };
}

/** A bucket's label on the axis and in the table: "13:00" for an hour, "4 Nov" for a day. */
function shortLabel(label: string, bucket: Statistics['bucket']): string {
  if (bucket === 'hour') return label.slice(11, 16);
  const d = new Date(`${label}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? label : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** 0.6 -> "60.0 %"; null (nothing to divide by) -> "–". */
export function formatRate(r: number | null): string {
  return r === null ? '–' : `${(r * 100).toFixed(1)} %`;
}

const COUNTS = [
  { key: 'delivered', label: 'Delivered' },
  { key: 'deferred', label: 'Deferred' },
  { key: 'failed', label: 'Failed' },
  { key: 'complaints', label: 'Complaints' },
  { key: 'opens', label: 'Opens' },
  { key: 'clicks', label: 'Clicks' },
  { key: 'unsubscribes', label: 'Unsubscribes' },
] as const;

const RATES = [
  { key: 'delivery', label: 'Delivered %', hint: 'delivered of the recipients attempted' },
  { key: 'bounce', label: 'Bounce %', hint: 'failed of the recipients attempted' },
  { key: 'open', label: 'Open %', hint: 'recipients who opened (people, not scanners) of those delivered' },
  { key: 'click', label: 'Click %', hint: 'recipients who clicked (people, not scanners) of those delivered' },
  { key: 'complaint', label: 'Complaint %', hint: 'complaints of the recipients delivered' },
] as const;

const CHART = [
  { key: 'delivered', name: 'Delivered', cls: 'series-delivered' },
  { key: 'deferred', name: 'Deferred', cls: 'series-deferred' },
  { key: 'failed', name: 'Failed', cls: 'series-failed' },
] as const;

export function OverviewPage({ session, query }: PageProps) {
  const servers = useLoad(() => listServers(), []);
  const serverList = servers.data?.data ?? null;
  const asked = query.get('server');
  const scope: Scope = asked !== null && asked !== '' && Number.isInteger(Number(asked)) ? Number(asked) : null;
  const period: Period = PERIODS.some((p) => p.value === query.get('period')) ? (query.get('period') as Period) : '24h';
  const stats = useLoad(() => statistics(scope, rangeOf(period)), [scope, period]);
  const queue = useLoad(() => queueNow(scope), [scope]);
  const scopeName = scope === null ? 'all servers' : (serverList?.find((s) => s.serverId === scope)?.name ?? `server #${scope}`);

  const go = (next: { server?: Scope; period?: Period }) => {
    const p = new URLSearchParams();
    const s = next.server !== undefined ? next.server : scope;
    if (s !== null) p.set('server', String(s));
    const per = next.period ?? period;
    if (per !== '24h') p.set('period', per);
    navigate(p.size > 0 ? `/?${p}` : '/', { replace: true });
  };
  const refresh = () => {
    stats.reload();
    queue.reload();
  };

  const { user } = session;
  const s = stats.data;
  const periodText = PERIODS.find((p) => p.value === period)!.text;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Overview
      </h1>
      <p>
        Signed in as <strong>{user.email}</strong> ({user.role}) in account {user.accountId}.
      </p>

      <div class="toolbar overview-controls">
        <div class="field inline">
          <label for="overview-scope">Show</label>
          <select
            id="overview-scope"
            value={scope === null ? '' : String(scope)}
            onChange={(e) => go({ server: e.currentTarget.value === '' ? null : Number(e.currentTarget.value) })}
          >
            <option value="">All servers (the account)</option>
            {serverList?.map((sv) => (
              <option key={sv.serverId} value={String(sv.serverId)}>
                {sv.name} (#{sv.serverId})
              </option>
            ))}
            {scope !== null && serverList !== null && !serverList.some((sv) => sv.serverId === scope) && <option value={String(scope)}>server #{scope}</option>}
          </select>
        </div>
        <fieldset class="segmented">
          <legend>Period</legend>
          {PERIODS.map((p) => (
            <span key={p.value} class="segment">
              <input
                type="radio"
                id={`period-${p.value}`}
                name="period"
                value={p.value}
                checked={period === p.value}
                onChange={() => go({ period: p.value })}
              />
              <label for={`period-${p.value}`}>{p.label}</label>
            </span>
          ))}
        </fieldset>
        <button type="button" class="secondary" onClick={refresh} disabled={stats.loading || queue.loading}>
          Refresh
        </button>
      </div>

      <h2 id="overview-stats-title">
        Mail of {scopeName} over {periodText}
      </h2>
      <p class="muted" aria-live="polite">
        {stats.loading ? 'Loading statistics…' : s === null ? '' : `${formatCount(s.totals.queued)} recipients accepted in this period.`}
      </p>
      {stats.error !== null && (
        <p class="form-error" role="alert">
          Could not load the statistics: {stats.error}
        </p>
      )}
      {s !== null && (
        <>
          <dl class="stat-grid" aria-labelledby="overview-stats-title">
            {COUNTS.map((c) => (
              <div class={`stat stat-${c.key}`} key={c.key}>
                <dt>{c.label}</dt>
                <dd id={`stat-${c.key}`}>{formatCount(s.totals[c.key])}</dd>
              </div>
            ))}
          </dl>
          <h3 id="overview-rates-title">Rates</h3>
          <dl class="stat-grid rates" aria-labelledby="overview-rates-title">
            {RATES.map((r) => (
              <div class="stat" key={r.key} title={r.hint}>
                <dt>{r.label}</dt>
                <dd id={`rate-${r.key}`}>{formatRate(s.rates[r.key])}</dd>
              </div>
            ))}
          </dl>
          <h3>Over time</h3>
          <OverviewChart stats={s} scopeName={scopeName} periodText={periodText} />
        </>
      )}

      <h2 id="overview-queue-title">Queue now</h2>
      {queue.error !== null && (
        <p class="form-error" role="alert">
          Could not load the queue: {queue.error}
        </p>
      )}
      {queue.data === null && queue.error === null && <p aria-busy="true">Loading the queue…</p>}
      {queue.data !== null && (
        <dl class="stat-grid" aria-labelledby="overview-queue-title">
          <div class="stat">
            <dt>Waiting</dt>
            <dd id="queue-total">{formatCount(queue.data.total)}</dd>
          </div>
          <div class="stat">
            <dt>Queued</dt>
            <dd id="queue-queued">{formatCount(queue.data.queued)}</dd>
          </div>
          <div class="stat">
            <dt>Deferred</dt>
            <dd id="queue-deferred">{formatCount(queue.data.deferred)}</dd>
          </div>
          <div class="stat">
            <dt>Being delivered</dt>
            <dd id="queue-delivering">{formatCount(queue.data.delivering)}</dd>
          </div>
        </dl>
      )}

      <h2>Servers</h2>
      {servers.error !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {servers.error}
        </p>
      )}
      {serverList === null && servers.error === null && <p aria-busy="true">Loading servers…</p>}
      {serverList !== null && serverList.length === 0 && <p class="muted">This account has no servers yet.</p>}
      {serverList !== null && serverList.length > 0 && (
        <ul class="server-list">
          {serverList.map((sv) => (
            <li key={sv.serverId}>
              <Link href={`/activity?server=${sv.serverId}`}>
                {sv.name} <span class="muted">#{sv.serverId}</span>
              </Link>
              {sv.status === 'disabled' && <span class="badge badge-failed">disabled</span>}
              {sv.sandbox && <span class="badge">sandbox</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function OverviewChart({ stats, scopeName, periodText }: { stats: Statistics; scopeName: string; periodText: string }) {
  const labels = stats.buckets.map((b) => shortLabel(b.label, stats.bucket));
  const per = stats.bucket === 'hour' ? 'hour' : 'day';
  let busiest = -1;
  stats.buckets.forEach((b, i) => {
    if (b.delivered + b.deferred + b.failed > 0 && (busiest < 0 || b.delivered > stats.buckets[busiest]!.delivered)) busiest = i;
  });
  const summary =
    `Line chart of delivered, deferred and failed recipients per ${per} for ${scopeName} over ${periodText}: ` +
    `${formatCount(stats.totals.delivered)} delivered, ${formatCount(stats.totals.deferred)} deferred and ${formatCount(stats.totals.failed)} failed in all` +
    (busiest < 0
      ? ', nothing sent.'
      : `; the most delivered in one ${per}, ${formatCount(stats.buckets[busiest]!.delivered)}, at ${labels[busiest]}. The numbers are in the table below.`);
  return (
    <LineChart
      id="overview-chart"
      summary={summary}
      xLabels={labels}
      series={CHART.map((c) => ({ name: c.name, cls: c.cls, values: stats.buckets.map((b) => b[c.key]) }))}
    >
      <div class="table-wrap">
        <table class="messages numbers">
          <caption>
            Recipients per {per} for {scopeName} over {periodText}
          </caption>
          <thead>
            <tr>
              <th scope="col">{per === 'hour' ? 'Hour' : 'Day'}</th>
              {COUNTS.map((c) => (
                <th scope="col" key={c.key}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {stats.buckets.map((b, i) => (
              <tr key={b.start}>
                <th scope="row" data-label={per === 'hour' ? 'Hour' : 'Day'}>
                  <time dateTime={b.start}>{labels[i]}</time>
                </th>
                {COUNTS.map((c) => (
                  <td key={c.key} data-label={c.label}>
                    {formatCount(b[c.key])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </LineChart>
  );
}
