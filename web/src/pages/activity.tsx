import type { PageProps } from '../app.js';
import { recentMessages } from '../api.js';
import { formatTime, statusClass } from '../ui/format.js';
import { ServerPicker, useServers } from '../ui/server-picker.js';
import { useLoad } from '../ui/use-load.js';

const PAGE_SIZE = 50;

export function ActivityPage({ query }: PageProps) {
  const { servers, error: serversError, selected } = useServers(query);
  const selectedId = selected?.serverId ?? null;
  const messages = useLoad(() => (selectedId === null ? null : recentMessages(selectedId, PAGE_SIZE)), [selectedId]);
  const rows = messages.data?.data ?? null;
  const total = messages.data?.total ?? 0;
  const loading = messages.loading;
  const rowsError = messages.error;

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
            <button type="button" class="secondary" onClick={messages.reload} disabled={loading}>
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
