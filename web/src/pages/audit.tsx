import type { PageProps } from '../app.js';
import { auditLog, AUDIT_ACTIONS, listUsers, type AuditEntry } from '../api/users.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { formatCount, formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

const PAGE_SIZE = 25;

/** What an entry's detail says, as "key: value" text (never markup). */
function detailText(d: AuditEntry['detail']): string {
  if (d === null) return '';
  return Object.entries(d)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** The account's audit log, newest first, a page at a time, filtered by action and by user (`/users/audit?action=&user=&page=`). */
export function AuditPage({ session, query }: PageProps) {
  const action = AUDIT_ACTIONS.find((a) => a === query.get('action'));
  const userParam = Number(query.get('user'));
  const userId = Number.isInteger(userParam) && userParam > 0 ? userParam : undefined;
  const pageParam = Number(query.get('page'));
  const page = Number.isInteger(pageParam) && pageParam > 1 ? pageParam : 1;
  const users = useLoad(() => (session.user.role === 'admin' ? listUsers() : null), []);
  const log = useLoad(
    () => (session.user.role === 'admin' ? auditLog({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, action, userId }) : null),
    [action, userId, page],
  );

  const go = (next: { action?: string | undefined; user?: number | undefined; page?: number }) => {
    const p = new URLSearchParams();
    const a = 'action' in next ? next.action : action;
    const u = 'user' in next ? next.user : userId;
    if (a !== undefined) p.set('action', a);
    if (u !== undefined) p.set('user', String(u));
    if ((next.page ?? 1) > 1) p.set('page', String(next.page));
    navigate(p.size > 0 ? `/users/audit?${p}` : '/users/audit', { replace: true });
  };

  if (session.user.role !== 'admin') {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Audit log
        </h1>
        <p>Only an admin of the account reads the audit log.</p>
      </section>
    );
  }

  const rows = log.data?.data ?? null;
  const total = log.data?.total ?? 0;
  const first = (page - 1) * PAGE_SIZE + 1;
  const last = (page - 1) * PAGE_SIZE + (rows?.length ?? 0);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Audit log
      </h1>
      <p>
        Sign-ins, changes to users and every change made in the panel, newest first. <Link href="/users">Back to users</Link>
      </p>
      <div class="toolbar">
        <div class="field inline">
          <label for="audit-action">Action</label>
          <select id="audit-action" value={action ?? ''} onChange={(e) => go({ action: e.currentTarget.value === '' ? undefined : e.currentTarget.value })}>
            <option value="">All actions</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div class="field inline">
          <label for="audit-user">User</label>
          <select
            id="audit-user"
            value={userId === undefined ? '' : String(userId)}
            onChange={(e) => go({ user: e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value) })}
          >
            <option value="">Everyone</option>
            {users.data?.data.map((u) => (
              <option key={u.id} value={String(u.id)}>
                {u.email}
              </option>
            ))}
          </select>
        </div>
        <button type="button" class="secondary" onClick={log.reload} disabled={log.loading}>
          Refresh
        </button>
      </div>
      <p class="muted" aria-live="polite">
        {log.loading
          ? 'Loading the audit log…'
          : rows === null
            ? ''
            : rows.length === 0
              ? 'No entries.'
              : `Showing ${formatCount(first)}–${formatCount(last)} of ${formatCount(total)} entries.`}
      </p>
      {log.error !== null && (
        <p class="form-error" role="alert">
          Could not load the audit log: {log.error}
        </p>
      )}
      {rows !== null && rows.length > 0 && (
        <div class="table-wrap">
          <table class="messages audit">
            <caption>Audit log, page {page}</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">User</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td data-label="Time">
                    <time dateTime={r.at}>{formatTime(r.at)}</time>
                  </td>
                  <td data-label="User" class="recipient">
                    {r.email ?? <span class="muted">{r.userId === null ? 'an API key' : `user #${r.userId}`}</span>}
                  </td>
                  <td data-label="Action">{r.action}</td>
                  <td data-label="Target" class="recipient">
                    {r.target ?? ''}
                  </td>
                  <td data-label="Details" class="recipient">
                    {detailText(r.detail)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows !== null && total > PAGE_SIZE && (
        <nav class="pager" aria-label="Audit log pages">
          <button type="button" class="secondary" disabled={page <= 1 || log.loading} onClick={() => go({ page: page - 1 })}>
            Newer
          </button>
          <span>
            Page {page} of {Math.ceil(total / PAGE_SIZE)}
          </span>
          <button type="button" class="secondary" disabled={last >= total || log.loading} onClick={() => go({ page: page + 1 })}>
            Older
          </button>
        </nav>
      )}
    </section>
  );
}
