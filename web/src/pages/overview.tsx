import type { PageProps } from '../app.js';
import { listServers } from '../api.js';
import { Link } from '../link.js';
import { useLoad } from '../ui/use-load.js';

export function OverviewPage({ session }: PageProps) {
  const loaded = useLoad(() => listServers(), []);
  const servers = loaded.data?.data ?? null;
  const error = loaded.error;

  const { user } = session;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Overview
      </h1>
      <p>
        Signed in as <strong>{user.email}</strong> ({user.role}) in account {user.accountId}.
      </p>
      <h2>Servers</h2>
      {error !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {error}
        </p>
      )}
      {servers === null && error === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet.</p>}
      {servers !== null && servers.length > 0 && (
        <ul class="server-list">
          {servers.map((s) => (
            <li key={s.serverId}>
              <Link href={`/activity?server=${s.serverId}`}>
                {s.name} <span class="muted">#{s.serverId}</span>
              </Link>
              {s.status === 'disabled' && <span class="badge badge-failed">disabled</span>}
              {s.sandbox && <span class="badge">sandbox</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
