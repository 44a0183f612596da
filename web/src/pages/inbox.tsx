import type { PageProps } from '../app.js';
import { sandboxInbox } from '../api/activity.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { formatCount, formatTime } from '../ui/format.js';
import { useServers } from '../ui/server-picker.js';
import { useLoad } from '../ui/use-load.js';
import { MessageView } from './message.js';

const PAGE_SIZE = 25;

function inboxUrl(serverId: number, page: number, message?: string): string {
  const q = new URLSearchParams({ server: String(serverId) });
  if (page > 1) q.set('page', String(page));
  if (message) q.set('message', message);
  return `/inbox?${q}`;
}

/**
 * What the account's sandbox servers captured (recipients in status Sandboxed: kept, never sent),
 * listed like a mail client's inbox; the selected one (`?message=`, so a link keeps it) is shown
 * with the message view of the Activity page.
 */
export function InboxPage({ query }: PageProps) {
  const { servers, error: serversError } = useServers(query);
  const sandboxes = servers?.filter((s) => s.sandbox) ?? null;
  const asked = Number(query.get('server'));
  const selected = sandboxes?.find((s) => s.serverId === asked) ?? sandboxes?.[0] ?? null;
  const selectedId = selected?.serverId ?? null;
  const pageParam = Number(query.get('page'));
  const page = Number.isInteger(pageParam) && pageParam >= 1 ? pageParam : 1;
  const message = query.get('message');
  const list = useLoad(() => (selectedId === null ? null : sandboxInbox(selectedId, page - 1, PAGE_SIZE)), [selectedId, page]);
  const rows = list.data?.data ?? null;
  const total = list.data?.total ?? 0;

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Sandbox inbox
      </h1>
      {serversError !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {serversError}
        </p>
      )}
      {servers === null && serversError === null && <p aria-busy="true">Loading servers…</p>}
      {sandboxes !== null && sandboxes.length === 0 && (
        <div class="empty">
          <p>This account has no sandbox server.</p>
          <p class="muted">
            A sandbox server accepts mail through the Injection API and SMTP like any other, but keeps every message here instead of sending it: a safe place to
            try templates and integrations. Make one with <code>POST /api/v2/servers</code> and <code>{'{"name": "Test", "sandbox": true}'}</code>, or turn
            sandbox on for an existing server with <code>PATCH /api/v2/servers/ID</code> and <code>{'{"sandbox": true}'}</code>.
          </p>
        </div>
      )}
      {selected !== null && sandboxes !== null && (
        <>
          <div class="toolbar">
            <div class="field inline">
              <label for="inbox-server">Sandbox server</label>
              <select
                id="inbox-server"
                value={String(selected.serverId)}
                onChange={(e) => navigate(inboxUrl(Number(e.currentTarget.value), 1), { replace: true })}
              >
                {sandboxes.map((s) => (
                  <option key={s.serverId} value={String(s.serverId)}>
                    {s.name} (#{s.serverId})
                  </option>
                ))}
              </select>
            </div>
            <button type="button" class="secondary" onClick={list.reload} disabled={list.loading}>
              Refresh
            </button>
          </div>
          {list.error !== null && (
            <p class="form-error" role="alert">
              Could not load the messages: {list.error}
            </p>
          )}
          <p class="muted" aria-live="polite">
            {list.loading
              ? 'Loading messages…'
              : rows === null
                ? ''
                : rows.length === 0
                  ? `${selected.name} has captured no messages yet. Send one to it and press Refresh.`
                  : `${formatCount(total)} captured ${total === 1 ? 'message' : 'messages'}.`}
          </p>
          <div class="inbox">
            {rows !== null && rows.length > 0 && (
              <div class="inbox-list-wrap">
                <ul class="inbox-list" aria-label={`Messages captured by ${selected.name}`}>
                  {rows.map((r) => (
                    <li key={r.recipientId}>
                      <Link
                        class="inbox-item"
                        href={inboxUrl(selected.serverId, page, r.recipientId)}
                        aria-current={r.recipientId === message ? 'true' : undefined}
                      >
                        <span class="inbox-from">{r.from}</span>
                        <time class="inbox-time" dateTime={r.queuedTime}>
                          {formatTime(r.queuedTime)}
                        </time>
                        <span class="inbox-subject">{r.renderedSubject ?? r.subject}</span>
                        <span class="inbox-to">to {r.to}</span>
                        <span class="inbox-preview">{r.preview}</span>
                      </Link>
                    </li>
                  ))}
                </ul>
                {(page > 1 || page * PAGE_SIZE < total) && (
                  <nav class="pager" aria-label="Pages">
                    <button type="button" class="secondary" disabled={page <= 1} onClick={() => navigate(inboxUrl(selected.serverId, page - 1))}>
                      Previous page
                    </button>
                    <button
                      type="button"
                      class="secondary"
                      disabled={page * PAGE_SIZE >= total}
                      onClick={() => navigate(inboxUrl(selected.serverId, page + 1))}
                    >
                      Next page
                    </button>
                  </nav>
                )}
              </div>
            )}
            {rows !== null && rows.length > 0 && (message === null || message === '') && <p class="muted">Choose a message to read it.</p>}
            {message !== null && message !== '' && (
              <section class="inbox-message" aria-labelledby="inbox-message-title">
                <h2 id="inbox-message-title">Selected message</h2>
                <MessageView serverId={selected.serverId} recipientId={message} level={3} />
              </section>
            )}
          </div>
        </>
      )}
    </section>
  );
}
