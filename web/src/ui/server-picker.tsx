import { listServers, type Server } from '../api.js';
import { navigate } from '../router.js';
import { useLoad } from './use-load.js';

/**
 * The account's servers, and which one the page is about: `?server=ID` in the URL (so a link or a
 * reload keeps it), else the first. Pages that work per server (Activity, Suppressions,
 * Webhooks, ...) start with this.
 */
export function useServers(query: URLSearchParams): { servers: Server[] | null; error: string | null; selected: Server | null } {
  const loaded = useLoad(() => listServers(), []);
  const servers = loaded.data?.data ?? null;
  const asked = Number(query.get('server'));
  const selected = servers?.find((s) => s.serverId === asked) ?? servers?.[0] ?? null;
  return { servers, error: loaded.error, selected };
}

/** The "Server" select; choosing one rewrites `?server=` on the current page (other query parameters dropped). */
export function ServerPicker({ id, servers, selected, path }: { id: string; servers: Server[]; selected: Server; path: string }) {
  return (
    <div class="field inline">
      <label for={id}>Server</label>
      <select
        id={id}
        value={String(selected.serverId)}
        onChange={(e) => navigate(`${path}?server=${encodeURIComponent(e.currentTarget.value)}`, { replace: true })}
      >
        {servers.map((s) => (
          <option key={s.serverId} value={String(s.serverId)}>
            {s.name} (#{s.serverId}){s.sandbox ? ' · sandbox' : ''}
          </option>
        ))}
      </select>
    </div>
  );
}
