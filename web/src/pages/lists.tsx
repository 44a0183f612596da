import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { listsApi, type ContactList } from '../api/lists.js';
import { Link } from '../link.js';
import { errorsFor, FormError, TextField } from '../ui/field.js';
import { formatCount, formatTime } from '../ui/format.js';
import { ServerPicker, useServers } from '../ui/server-picker.js';
import { useLoad } from '../ui/use-load.js';

/** `/lists`: a server's marketing lists (Marketing API), a form to make one, and deleting one after a second click. */
export function ListsPage({ session, query }: PageProps) {
  const { servers, error: serversError, selected } = useServers(query);
  const serverId = selected?.serverId ?? null;
  const api = serverId === null ? null : listsApi(serverId, session.csrfToken);
  const lists = useLoad(() => (api === null ? null : api.lists()), [serverId]);
  const canChange = session.user.role !== 'viewer';

  return (
    <section aria-labelledby="page-title" class="lists-page">
      <h1 id="page-title" tabIndex={-1}>
        Lists
      </h1>
      {serversError !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {serversError}
        </p>
      )}
      {servers === null && serversError === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet, so there are no lists.</p>}
      {selected !== null && servers !== null && api !== null && (
        <>
          <div class="toolbar">
            <ServerPicker id="lists-server" servers={servers} selected={selected} path="/lists" />
            <button type="button" class="secondary" onClick={lists.reload} disabled={lists.loading}>
              Refresh
            </button>
          </div>
          {canChange && <CreateListForm key={selected.serverId} create={api.createList} onCreated={lists.reload} />}
          <p class="muted" aria-live="polite">
            {lists.loading ? 'Loading lists…' : lists.data === null ? '' : lists.data.length === 0 ? 'No lists yet.' : `${lists.data.length} lists.`}
          </p>
          {lists.error !== null && (
            <p class="form-error" role="alert">
              Could not load the lists: {lists.error}
            </p>
          )}
          {lists.data !== null && lists.data.length > 0 && (
            <div class="table-wrap">
              <table class="messages">
                <caption>Lists of {selected.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Contacts</th>
                    <th scope="col">Created</th>
                    {canChange && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {lists.data.map((l) => (
                    <ListRow key={l.listId} list={l} serverId={selected.serverId} canChange={canChange} remove={api.deleteList} onRemoved={lists.reload} />
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

function CreateListForm({ create, onCreated }: { create: (name: string) => Promise<ContactList>; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const errors = errorsFor(err, ['name']);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setDone(null);
    try {
      const l = await create(name);
      setName('');
      setDone(`List "${l.name}" created.`);
      onCreated();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card list-create" onSubmit={submit} noValidate>
      <h2>New list</h2>
      <TextField id="list-name" label="List name" error={errors.field.name} value={name} maxLength={100} onValue={setName} />
      <FormError message={errors.form} />
      <button type="submit" disabled={busy}>
        Create list
      </button>
      <p class="muted" aria-live="polite">
        {done}
      </p>
    </form>
  );
}

function ListRow({
  list,
  serverId,
  canChange,
  remove,
  onRemoved,
}: {
  list: ContactList;
  serverId: number;
  canChange: boolean;
  remove: (id: number) => Promise<void>;
  onRemoved: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const doRemove = async () => {
    setBusy(true);
    setError(null);
    try {
      await remove(list.listId);
      onRemoved();
    } catch (x) {
      setError((x as Error).message);
      setBusy(false);
    }
  };
  return (
    <tr>
      <td data-label="Name" class="recipient">
        <Link href={`/lists/list?server=${serverId}&list=${list.listId}`}>{list.name}</Link>
      </td>
      <td data-label="Contacts">{formatCount(list.contactCount)}</td>
      <td data-label="Created">
        <time dateTime={list.createdOn}>{formatTime(list.createdOn)}</time>
      </td>
      {canChange && (
        <td data-label="Actions">
          {!confirming ? (
            <button type="button" class="secondary small" onClick={() => setConfirming(true)} aria-label={`Delete list ${list.name}`}>
              Delete
            </button>
          ) : (
            <span class="confirm">
              <span>Delete "{list.name}"? Its contacts stay.</span>
              <button type="button" class="danger small" onClick={doRemove} disabled={busy}>
                Delete list
              </button>
              <button type="button" class="secondary small" onClick={() => setConfirming(false)} disabled={busy}>
                Cancel
              </button>
            </span>
          )}
          {error !== null && (
            <p class="field-error" role="alert">
              {error}
            </p>
          )}
        </td>
      )}
    </tr>
  );
}
