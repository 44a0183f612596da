import { useEffect, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import type { Page } from '../api.js';
import { SEARCH_FILTERS, STATUSES, searchRecipients, type SearchFilter, type SearchFilters, type SearchRow } from '../api/activity.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { describedBy, errorsFor, Field, FormError } from '../ui/field.js';
import { formatCount, formatTime, statusClass } from '../ui/format.js';
import { ServerPicker, useServers } from '../ui/server-picker.js';

const PAGE_SIZE = 50;

/** Each filter's label and input: the recipient-search parameter is the URL's query name too. */
const FILTER_FIELDS: readonly { name: SearchFilter; label: string; type: 'text' | 'date' | 'status'; hint?: string }[] = [
  { name: 'toEmailAddress', label: 'Recipient', type: 'text', hint: 'The whole address' },
  { name: 'fromEmailAddress', label: 'Sender', type: 'text', hint: 'The whole From address' },
  { name: 'subject', label: 'Subject contains', type: 'text' },
  { name: 'status', label: 'Status', type: 'status' },
  { name: 'mailingId', label: 'Mailing ID', type: 'text' },
  { name: 'startDate', label: 'Queued from', type: 'date', hint: 'UTC day' },
  { name: 'endDate', label: 'Queued until', type: 'date', hint: 'UTC day, included' },
];

function filtersOf(query: URLSearchParams): SearchFilters {
  const f: SearchFilters = {};
  for (const name of SEARCH_FILTERS) {
    const v = query.get(name);
    if (v !== null && v !== '') f[name] = v;
  }
  return f;
}

/** `?page=` is 1-based for people; the API's pageNumber is 0-based. */
function pageOf(query: URLSearchParams): number {
  const n = Number(query.get('page'));
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

function activityUrl(serverId: number, filters: SearchFilters, page: number): string {
  const q = new URLSearchParams({ server: String(serverId) });
  for (const name of SEARCH_FILTERS) {
    const v = filters[name]?.trim();
    if (v) q.set(name, v);
  }
  if (page > 1) q.set('page', String(page));
  return `/activity?${q}`;
}

export function ActivityPage({ query }: PageProps) {
  const { servers, error: serversError, selected } = useServers(query);
  const selectedId = selected?.serverId ?? null;
  const filters = filtersOf(query);
  const page = pageOf(query);
  const key = JSON.stringify([selectedId, filters, page]);

  // The form's own values, reset from the URL whenever it changes (a search, Back, a shared link).
  const [form, setForm] = useState<SearchFilters>(filters);
  useEffect(() => setForm(filtersOf(query)), [key]);

  const [result, setResult] = useState<(Page<SearchRow> & { totalExact?: boolean }) | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (selectedId === null) return;
    let live = true;
    setLoading(true);
    setFailure(null);
    searchRecipients(selectedId, filters, page - 1, PAGE_SIZE)
      .then((r) => {
        if (live) setResult(r);
      })
      .catch((err: unknown) => {
        if (!live) return;
        setResult(null);
        setFailure(err);
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [key, tick]);

  const errors = errorsFor(failure, SEARCH_FILTERS);
  const rows = result?.data ?? null;
  const total = result?.total ?? 0;
  // "10,000+" when the count stopped at the page's limit (api/activity.ts COUNT_LIMIT).
  const totalText = result?.totalExact === false ? `${formatCount(total)}+` : formatCount(total);
  const filtered = Object.keys(filters).length > 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = (page - 1) * PAGE_SIZE;

  const submit = (e: Event) => {
    e.preventDefault();
    if (selectedId !== null) navigate(activityUrl(selectedId, form, 1));
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Activity
      </h1>
      {serversError !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {serversError}
        </p>
      )}
      {servers === null && serversError === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet, so there is no activity to show.</p>}
      {selected !== null && servers !== null && (
        <>
          <div class="toolbar">
            <ServerPicker id="activity-server" servers={servers} selected={selected} path="/activity" />
            <button type="button" class="secondary" onClick={() => setTick((n) => n + 1)} disabled={loading}>
              Refresh
            </button>
          </div>
          <form class="search-form" onSubmit={submit} aria-label="Search messages" noValidate>
            <div class="search-fields">
              {FILTER_FIELDS.map((f) => {
                const id = `activity-${f.name}`;
                const err = errors.field[f.name];
                const value = form[f.name] ?? '';
                const onInput = (e: Event) => setForm({ ...form, [f.name]: (e.currentTarget as HTMLInputElement | HTMLSelectElement).value });
                return (
                  <Field key={f.name} id={id} label={f.label} hint={f.hint} error={err}>
                    {f.type === 'status' ? (
                      <select id={id} value={value} onChange={onInput} aria-describedby={describedBy(id, err, f.hint)}>
                        <option value="">Any status</option>
                        {STATUSES.map((s) => (
                          <option key={s} value={s}>
                            {s}
                          </option>
                        ))}
                      </select>
                    ) : (
                      <input
                        id={id}
                        type={f.type}
                        value={value}
                        onInput={onInput}
                        aria-invalid={err ? true : undefined}
                        aria-describedby={describedBy(id, err, f.hint)}
                        inputMode={f.name.endsWith('EmailAddress') ? 'email' : undefined}
                        autoComplete="off"
                        spellcheck={false}
                      />
                    )}
                  </Field>
                );
              })}
            </div>
            <div class="toolbar">
              <button type="submit">Search</button>
              {filtered && (
                <button type="button" class="secondary" onClick={() => navigate(activityUrl(selected.serverId, {}, 1))}>
                  Clear filters
                </button>
              )}
            </div>
          </form>
          <FormError message={errors.form === null ? null : `Could not load the messages: ${errors.form}`} />
          <p class="muted" aria-live="polite">
            {loading
              ? 'Loading messages…'
              : rows === null
                ? ''
                : rows.length === 0
                  ? filtered
                    ? 'No messages match these filters.'
                    : page > 1
                      ? 'No messages on this page.'
                      : 'No messages yet.'
                  : `Showing ${formatCount(first + 1)}–${formatCount(first + rows.length)} of ${totalText} recipients, newest first.`}
          </p>
          {rows !== null && rows.length > 0 && (
            <div class="table-wrap">
              <table class="messages">
                <caption>{filtered ? `Messages of ${selected.name} matching the filters` : `Recent messages of ${selected.name}`}</caption>
                <thead>
                  <tr>
                    <th scope="col">Recipient</th>
                    <th scope="col">Subject</th>
                    <th scope="col">Status</th>
                    <th scope="col">Time</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.recipientId}>
                      <td data-label="Recipient" class="recipient">
                        <Link href={`/activity/message?server=${encodeURIComponent(String(selected.serverId))}&recipient=${encodeURIComponent(r.recipientId)}`}>
                          {r.to}
                        </Link>
                      </td>
                      <td data-label="Subject">{r.subject === '' ? <span class="muted">(no subject)</span> : r.subject}</td>
                      <td data-label="Status">
                        <span class={statusClass(r.status)}>{r.status}</span>
                      </td>
                      <td data-label="Time">
                        <time dateTime={r.queuedTime} title={`queued ${r.queuedTime}; status since ${r.statusDate}`}>
                          {formatTime(r.queuedTime)}
                        </time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {rows !== null && (page > 1 || first + rows.length < total) && (
            <nav class="pager" aria-label="Pages">
              <button
                type="button"
                class="secondary"
                disabled={page <= 1 || loading}
                onClick={() => navigate(activityUrl(selected.serverId, filters, page - 1))}
              >
                Previous page
              </button>
              <span>
                Page {formatCount(page)} of {formatCount(pages)}
              </span>
              <button
                type="button"
                class="secondary"
                disabled={first + rows.length >= total || loading}
                onClick={() => navigate(activityUrl(selected.serverId, filters, page + 1))}
              >
                Next page
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}
