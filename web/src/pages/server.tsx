import { useEffect, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { getServer, updateServer, type ServerDetail, type ServerSettings } from '../api/servers.js';
import { Link } from '../link.js';
import { errorsFor, FormError } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';
import { ServerKeys } from './server-keys.js';
import { SettingsFields, settingsOf, trackingText } from './servers.js';
import { ServerTemplates } from './server-templates.js';

const SETTING_FIELDS = ['name', 'sandbox', 'trackOpens', 'trackClicks', 'trackUnsubscribes', 'requireVerifiedDomain'] as const;

/** `/servers/server?server=ID`: one server's settings, its API keys and its stored templates. */
export function ServerPage({ session, query }: PageProps) {
  const raw = query.get('server') ?? '';
  const id = /^[1-9]\d{0,14}$/.test(raw) ? Number(raw) : null;
  const canChange = session.user.role !== 'viewer';
  const loaded = useLoad(() => (id === null ? null : getServer(id)), [id]);
  const server = loaded.data;

  return (
    <section aria-labelledby="page-title">
      <p class="crumbs">
        <Link href="/servers">← All servers</Link>
      </p>
      <h1 id="page-title" tabIndex={-1}>
        {server ? `Server ${server.name}` : 'Server'}
      </h1>
      {id === null && (
        <p class="form-error" role="alert">
          No server named: open a server from the list of servers.
        </p>
      )}
      {loaded.error !== null && (
        <p class="form-error" role="alert">
          Could not load server {raw}: {loaded.error}
        </p>
      )}
      {id !== null && server === null && loaded.error === null && <p aria-busy="true">Loading the server…</p>}
      {server !== null && (
        <>
          <ServerSettingsSection server={server} canChange={canChange} onSaved={loaded.reload} />
          <ServerKeys serverId={server.serverId} canChange={canChange} />
          <ServerTemplates serverId={server.serverId} canChange={canChange} />
        </>
      )}
    </section>
  );
}

function ServerSettingsSection({ server, canChange, onSaved }: { server: ServerDetail; canChange: boolean; onSaved: () => void }) {
  const [form, setForm] = useState<ServerSettings>(settingsOf(server));
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  // A reload (after saving) brings the server's stored settings back into the form.
  useEffect(() => setForm(settingsOf(server)), [server]);
  const errors = errorsFor(failure, SETTING_FIELDS);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    setSaved(false);
    try {
      await updateServer(server.serverId, form);
      setSaved(true);
      onSaved();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      <dl class="facts">
        <dt>ID</dt>
        <dd>{server.serverId}</dd>
        <dt>Status</dt>
        <dd>
          <span class={server.status === 'active' ? 'badge badge-ok' : 'badge badge-failed'}>{server.status}</span>
        </dd>
        <dt>Created</dt>
        <dd>
          <time dateTime={server.createdOn}>{formatTime(server.createdOn)}</time>
        </dd>
        {!canChange && (
          <>
            <dt>Sandbox</dt>
            <dd>{server.sandbox ? 'yes' : 'no'}</dd>
            <dt>Tracking</dt>
            <dd>{trackingText(server.tracking)}</dd>
            <dt>Verified domain</dt>
            <dd>{server.requireVerifiedDomain ? 'required' : 'not required'}</dd>
          </>
        )}
      </dl>
      {canChange && (
        <form class="card panel-form" onSubmit={submit} noValidate aria-label="Server settings">
          <SettingsFields prefix="server" value={form} onChange={setForm} errors={errors.field} />
          <FormError message={errors.form} />
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
          {saved && (
            <p class="done" role="status">
              Settings saved.
            </p>
          )}
        </form>
      )}
    </section>
  );
}
