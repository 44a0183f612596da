import { useState } from 'preact/hooks';
import { createKey, listKeys, revokeKey, rotateKey, type ApiKey, type ApiKeyWithSecret } from '../api/servers.js';
import { CopyButton } from '../ui/copy-button.js';
import { describedBy, errorsFor, Field, FormError, TextField } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

const SCOPES = [
  { value: 'injection', label: 'Injection (send mail)' },
  { value: 'management', label: 'Management (this API)' },
  { value: 'injection,management', label: 'Injection and management' },
] as const;

const scopeText = (s: string) => SCOPES.find((x) => x.value === s)?.label ?? s;

/** A server's API keys: list, create (the secret shown once), rotate (a new secret shown once) and revoke, each change confirmed. */
export function ServerKeys({ serverId, canChange }: { serverId: number; canChange: boolean }) {
  const loaded = useLoad(() => listKeys(serverId), [serverId]);
  const keys = loaded.data?.data ?? null;
  const [name, setName] = useState('');
  const [scope, setScope] = useState<string>('injection');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  /** The secret just made (create or rotate): shown until dismissed, never again. */
  const [secret, setSecret] = useState<{ key: ApiKeyWithSecret; rotated: boolean } | null>(null);
  /** The row asking "are you sure?": which key and which action. */
  const [confirm, setConfirm] = useState<{ keyId: string; action: 'rotate' | 'revoke' } | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);
  const errors = errorsFor(failure, ['name', 'scope']);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    setSecret(null);
    try {
      const k = await createKey(serverId, name, scope);
      setSecret({ key: k, rotated: false });
      setName('');
      loaded.reload();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  const act = async (k: ApiKey, action: 'rotate' | 'revoke') => {
    setBusy(true);
    setRowError(null);
    setSecret(null);
    try {
      if (action === 'rotate') setSecret({ key: await rotateKey(serverId, k.keyId), rotated: true });
      else await revokeKey(serverId, k.keyId);
      setConfirm(null);
      loaded.reload();
    } catch (err) {
      setRowError(`Could not ${action} ${k.name}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="keys-title">
      <h2 id="keys-title">API keys</h2>
      {secret !== null && (
        <div class="secret card" role="status">
          <p>
            <strong>
              {secret.rotated ? 'New secret for' : 'New key'} {secret.key.name}:
            </strong>{' '}
            copy it now. <strong>You will not see it again</strong>; only its hash is stored.
          </p>
          <p class="secret-value">
            <code id="new-secret">{secret.key.apiKey}</code>
          </p>
          <p class="toolbar">
            <CopyButton value={secret.key.apiKey} label="Copy key" what={secret.key.name} />
            <button type="button" class="secondary small" onClick={() => setSecret(null)}>
              I have copied it
            </button>
          </p>
        </div>
      )}
      {loaded.error !== null && (
        <p class="form-error" role="alert">
          Could not load the keys: {loaded.error}
        </p>
      )}
      {rowError !== null && (
        <p class="form-error" role="alert">
          {rowError}
        </p>
      )}
      {keys === null && loaded.error === null && <p aria-busy="true">Loading keys…</p>}
      {keys !== null && keys.length === 0 && <p class="muted">This server has no API keys yet.</p>}
      {keys !== null && keys.length > 0 && (
        <div class="table-wrap">
          <table class="messages keys">
            <caption>API keys of server {serverId}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key ID</th>
                <th scope="col">Permissions</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                {canChange && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.keyId}>
                  <th scope="row" data-label="Name" class="wrap">
                    {k.name}
                  </th>
                  <td data-label="Key ID" class="wrap">
                    <code>{k.keyId}</code>
                  </td>
                  <td data-label="Permissions">{scopeText(k.scope)}</td>
                  <td data-label="Status">
                    <span class={k.status === 'active' ? 'badge badge-ok' : 'badge badge-failed'}>{k.status}</span>
                    {k.revokedOn !== null && <span class="muted small-text"> {formatTime(k.revokedOn)}</span>}
                  </td>
                  <td data-label="Created">
                    <time dateTime={k.createdOn}>{formatTime(k.createdOn)}</time>
                  </td>
                  {canChange && (
                    <td data-label="Actions">
                      {k.status === 'active' && confirm?.keyId !== k.keyId && (
                        <span class="row-actions">
                          <button
                            type="button"
                            class="secondary small"
                            aria-label={`Rotate ${k.name}`}
                            onClick={() => setConfirm({ keyId: k.keyId, action: 'rotate' })}
                          >
                            Rotate
                          </button>
                          <button
                            type="button"
                            class="secondary small danger"
                            aria-label={`Revoke ${k.name}`}
                            onClick={() => setConfirm({ keyId: k.keyId, action: 'revoke' })}
                          >
                            Revoke
                          </button>
                        </span>
                      )}
                      {confirm?.keyId === k.keyId && (
                        <fieldset class="confirm" aria-label={`Confirm ${confirm.action} ${k.name}`}>
                          <span>
                            {confirm.action === 'revoke'
                              ? 'Revoke it? Its requests are refused at once.'
                              : 'Rotate it? The current secret stops working at once.'}
                          </span>
                          <button type="button" class="small danger-solid" disabled={busy} onClick={() => act(k, confirm.action)}>
                            {confirm.action === 'revoke' ? `Yes, revoke ${k.name}` : `Yes, rotate ${k.name}`}
                          </button>
                          <button type="button" class="secondary small" onClick={() => setConfirm(null)}>
                            Cancel
                          </button>
                        </fieldset>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canChange && (
        <form class="card panel-form" onSubmit={submit} noValidate aria-labelledby="new-key-title">
          <h3 id="new-key-title">Create API key</h3>
          <TextField
            id="key-name"
            label="Key name"
            hint="What the key is for, e.g. the app that uses it."
            error={errors.field.name}
            type="text"
            value={name}
            autoComplete="off"
            onValue={setName}
          />
          <Field id="key-scope" label="Permissions" error={errors.field.scope}>
            <select
              id="key-scope"
              value={scope}
              aria-describedby={describedBy('key-scope', errors.field.scope)}
              onChange={(e) => setScope(e.currentTarget.value)}
            >
              {SCOPES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </Field>
          <FormError message={errors.form} />
          <button type="submit" disabled={busy}>
            Create key
          </button>
        </form>
      )}
    </section>
  );
}
