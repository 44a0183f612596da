import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { createServer, listServerDetails, type ServerDetail, type ServerSettings } from '../api/servers.js';
import { Link } from '../link.js';
import { describedBy, errorsFor, Field, FormError } from '../ui/field.js';
import { useLoad } from '../ui/use-load.js';

const SETTING_FIELDS = ['name', 'sandbox', 'trackOpens', 'trackClicks', 'trackUnsubscribes', 'requireVerifiedDomain'] as const;

export const NEW_SERVER: ServerSettings = {
  name: '',
  sandbox: false,
  trackOpens: false,
  trackClicks: false,
  trackUnsubscribes: false,
  requireVerifiedDomain: true,
};

/** A server's settings as the form edits them. */
export function settingsOf(s: ServerDetail): ServerSettings {
  return {
    name: s.name,
    sandbox: s.sandbox,
    trackOpens: s.tracking.opens,
    trackClicks: s.tracking.clicks,
    trackUnsubscribes: s.tracking.unsubscribes,
    requireVerifiedDomain: s.requireVerifiedDomain,
  };
}

/** A checkbox with its label beside it (the label is the click target too). */
export function Check({ id, label, hint, checked, onChange }: { id: string; label: string; hint?: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div class="check">
      <input type="checkbox" id={id} checked={checked} aria-describedby={describedBy(id, null, hint)} onChange={(e) => onChange(e.currentTarget.checked)} />
      <label for={id}>{label}</label>
      {hint !== undefined && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/** The fields a server is created and edited with; errors are the server's, next to the field it named. */
export function SettingsFields({
  prefix,
  value,
  onChange,
  errors,
}: {
  prefix: string;
  value: ServerSettings;
  onChange: (v: ServerSettings) => void;
  errors: Record<string, string>;
}) {
  const set = <K extends keyof ServerSettings>(k: K, v: ServerSettings[K]) => onChange({ ...value, [k]: v });
  const nameId = `${prefix}-name`;
  const hint = 'Shown in lists; up to 200 characters.';
  return (
    <>
      <Field id={nameId} label="Name" hint={hint} error={errors.name}>
        <input
          id={nameId}
          type="text"
          value={value.name}
          autoComplete="off"
          aria-invalid={errors.name ? 'true' : undefined}
          aria-describedby={describedBy(nameId, errors.name, hint)}
          onInput={(e) => set('name', e.currentTarget.value)}
        />
      </Field>
      <fieldset class="checks">
        <legend>Settings</legend>
        <Check id={`${prefix}-sandbox`} label="Sandbox" hint="Accept mail but deliver none." checked={value.sandbox} onChange={(v) => set('sandbox', v)} />
        <Check id={`${prefix}-opens`} label="Track opens" checked={value.trackOpens} onChange={(v) => set('trackOpens', v)} />
        <Check id={`${prefix}-clicks`} label="Track clicks" checked={value.trackClicks} onChange={(v) => set('trackClicks', v)} />
        <Check id={`${prefix}-unsubscribes`} label="Track unsubscribes" checked={value.trackUnsubscribes} onChange={(v) => set('trackUnsubscribes', v)} />
        <Check
          id={`${prefix}-verified`}
          label="Require a verified sending domain"
          hint="Refuse mail whose From domain is not one of the server's verified sending domains."
          checked={value.requireVerifiedDomain}
          onChange={(v) => set('requireVerifiedDomain', v)}
        />
      </fieldset>
      {SETTING_FIELDS.filter((f) => f !== 'name' && errors[f]).map((f) => (
        <p key={f} class="field-error" role="alert">
          {errors[f]}
        </p>
      ))}
    </>
  );
}

/** "opens, clicks" or "none". */
export function trackingText(t: ServerDetail['tracking']): string {
  const on = [t.opens && 'opens', t.clicks && 'clicks', t.unsubscribes && 'unsubscribes'].filter((x) => x !== false);
  return on.length === 0 ? 'none' : on.join(', ');
}

export function ServersPage({ session }: PageProps) {
  const canChange = session.user.role !== 'viewer';
  const loaded = useLoad(() => listServerDetails(), []);
  const servers = loaded.data?.data ?? null;
  const [form, setForm] = useState<ServerSettings>(NEW_SERVER);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [created, setCreated] = useState<ServerDetail | null>(null);
  const errors = errorsFor(failure, SETTING_FIELDS);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    setCreated(null);
    try {
      const s = await createServer(form);
      setCreated(s);
      setForm(NEW_SERVER);
      loaded.reload();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Servers
      </h1>
      {loaded.error !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {loaded.error}
        </p>
      )}
      {servers === null && loaded.error === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet.</p>}
      {servers !== null && servers.length > 0 && (
        <div class="table-wrap">
          <table class="messages servers">
            <caption>Servers of account {session.user.accountId}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">ID</th>
                <th scope="col">Status</th>
                <th scope="col">Sandbox</th>
                <th scope="col">Tracking</th>
                <th scope="col">Verified domain</th>
              </tr>
            </thead>
            <tbody>
              {servers.map((s) => (
                <tr key={s.serverId}>
                  <th scope="row" data-label="Name" class="wrap">
                    <Link href={`/servers/server?server=${s.serverId}`}>{s.name}</Link>
                  </th>
                  <td data-label="ID">{s.serverId}</td>
                  <td data-label="Status">
                    <span class={s.status === 'active' ? 'badge badge-ok' : 'badge badge-failed'}>{s.status}</span>
                  </td>
                  <td data-label="Sandbox">{s.sandbox ? 'yes' : 'no'}</td>
                  <td data-label="Tracking">{trackingText(s.tracking)}</td>
                  <td data-label="Verified domain">{s.requireVerifiedDomain ? 'required' : 'not required'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {canChange && (
        <form class="card panel-form" onSubmit={submit} noValidate aria-labelledby="create-server-title">
          <h2 id="create-server-title">Create server</h2>
          <SettingsFields prefix="new-server" value={form} onChange={setForm} errors={errors.field} />
          <FormError message={errors.form} />
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create server'}
          </button>
          {created !== null && (
            <p class="done" role="status">
              Server <Link href={`/servers/server?server=${created.serverId}`}>{created.name}</Link> (#{created.serverId}) created.
            </p>
          )}
        </form>
      )}
    </section>
  );
}
