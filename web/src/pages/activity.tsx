import { useEffect, useState } from 'preact/hooks';
import { listServers, recentMessages, type RecipientRow, type Server } from '../api.js';
import { navigate } from '../router.js';

const PAGE_SIZE = 50;

/** "2025-11-04T10:00:02Z" in the reader's own locale and zone. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The CSS class of a status badge: one colour per kind of outcome. */
export function statusClass(status: string): string {
  switch (status) {
    case 'Delivered':
      return 'badge badge-ok';
    case 'Failed':
    case 'Suppressed':
      return 'badge badge-failed';
    case 'Deferred':
      return 'badge badge-warn';
    default:
      return 'badge';
  }
}

export function ActivityPage({ query }: { query: URLSearchParams }) {
  const [servers, setServers] = useState<Server[] | null>(null);
  const [serversError, setServersError] = useState<string | null>(null);
  const [rows, setRows] = useState<RecipientRow[] | null>(null);
  const [total, setTotal] = useState(0);
  const [rowsError, setRowsError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [refreshes, setRefreshes] = useState(0);

  useEffect(() => {
    listServers()
      .then((p) => setServers(p.data))
      .catch((err: Error) => setServersError(err.message));
  }, []);

  const asked = Number(query.get('server'));
  const selected = servers?.find((s) => s.serverId === asked) ?? servers?.[0] ?? null;
  const selectedId = selected?.serverId ?? null;

  useEffect(() => {
    if (selectedId === null) return;
    let live = true;
    setLoading(true);
    setRowsError(null);
    recentMessages(selectedId, PAGE_SIZE)
      .then((p) => {
        if (!live) return;
        setRows(p.data);
        setTotal(p.total);
      })
      .catch((err: Error) => {
        if (!live) return;
        setRows(null);
        setRowsError(err.message);
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [selectedId, refreshes]);

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
            <div class="field inline">
              <label for="activity-server">Server</label>
              <select
                id="activity-server"
                value={String(selected.serverId)}
                onChange={(e) => navigate(`/activity?server=${encodeURIComponent(e.currentTarget.value)}`, { replace: true })}
              >
                {servers.map((s) => (
                  <option key={s.serverId} value={String(s.serverId)}>
                    {s.name} (#{s.serverId})
                  </option>
                ))}
              </select>
            </div>
            <button type="button" class="secondary" onClick={() => setRefreshes((n) => n + 1)} disabled={loading}>
              Refresh
            </button>
          </div>
          <p class="muted" aria-live="polite">
            {loading
              ? 'Loading messages…'
              : rows === null
                ? ''
                : rows.length === 0
                  ? 'No messages yet.'
                  : `Showing the ${rows.length} most recent of ${total} recipients.`}
          </p>
          {rowsError !== null && (
            <p class="form-error" role="alert">
              Could not load the messages: {rowsError}
            </p>
          )}
          {rows !== null && rows.length > 0 && (
            <div class="table-wrap">
              <table class="messages">
                <caption>Recent messages of {selected.name}</caption>
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
                        {r.to}
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
        </>
      )}
    </section>
  );
}
