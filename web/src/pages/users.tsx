import { useRef, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import type { Role, User } from '../api.js';
import { createUser, listUsers, updateUser } from '../api/users.js';
import { Link } from '../link.js';
import { describedBy, errorsFor, Field, FormError, TextField } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

const ROLES: readonly { value: Role; label: string }[] = [
  { value: 'admin', label: 'Admin (everything, including users)' },
  { value: 'member', label: 'Member (everything but users and the audit log)' },
  { value: 'viewer', label: 'Viewer (reads only)' },
];

export function UsersPage({ session }: PageProps) {
  const users = useLoad(() => listUsers(), []);
  const [selectedId, setSelectedId] = useState<number | null>(null);
  const [said, setSaid] = useState('');
  const list = users.data?.data ?? null;
  const selected = list?.find((u) => u.id === selectedId) ?? null;
  const manageRef = useRef<HTMLElement>(null);

  if (session.user.role !== 'admin') {
    return (
      <section aria-labelledby="page-title">
        <h1 id="page-title" tabIndex={-1}>
          Users
        </h1>
        <p>Only an admin of the account manages its users and reads the audit log.</p>
      </section>
    );
  }

  const changed = (message: string) => {
    setSaid(message);
    users.reload();
  };
  const manage = (id: number) => {
    setSelectedId(id);
    setSaid('');
    // After the panel renders, move there so keyboard and screen reader users land on it.
    setTimeout(() => manageRef.current?.querySelector<HTMLElement>('h2')?.focus(), 0);
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Users
      </h1>
      <p>
        The people who sign in to this panel for account {session.user.accountId}. <Link href="/users/audit">Audit log</Link>
      </p>
      <p class="muted" role="status" aria-live="polite">
        {said}
      </p>
      {users.error !== null && (
        <p class="form-error" role="alert">
          Could not load the users: {users.error}
        </p>
      )}
      {list === null && users.error === null && <p aria-busy="true">Loading users…</p>}
      {list !== null && list.length === 0 && <p class="muted">This account has no users yet.</p>}
      {list !== null && list.length > 0 && (
        <div class="table-wrap">
          <table class="messages users">
            <caption>Users of account {session.user.accountId}</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((u) => (
                <tr key={u.id} aria-current={u.id === selectedId ? 'true' : undefined}>
                  <td data-label="Email" class="recipient">
                    {u.email}
                    {u.id === session.user.id && <span class="badge">you</span>}
                  </td>
                  <td data-label="Role">{u.role}</td>
                  <td data-label="Status">
                    <span class={u.status === 'active' ? 'badge badge-ok' : 'badge badge-failed'}>{u.status}</span>
                  </td>
                  <td data-label="Created">
                    <time dateTime={u.createdAt}>{formatTime(u.createdAt)}</time>
                  </td>
                  <td data-label="Last sign-in">
                    {u.lastSignInAt === null ? <span class="muted">never</span> : <time dateTime={u.lastSignInAt}>{formatTime(u.lastSignInAt)}</time>}
                  </td>
                  <td data-label="Actions">
                    <button type="button" class="secondary small" onClick={() => manage(u.id)} aria-label={`Manage ${u.email}`}>
                      Manage
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {selected !== null && (
        <section ref={manageRef} class="card manage-user" aria-labelledby="manage-title">
          <ManageUser key={selected.id} user={selected} self={selected.id === session.user.id} onChanged={changed} onClose={() => setSelectedId(null)} />
        </section>
      )}
      <AddUser onAdded={(u) => changed(`Added ${u.email} as ${u.role}.`)} />
    </section>
  );
}

function AddUser({ onAdded }: { onAdded: (u: User) => void }) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = errorsFor(err, ['email', 'role', 'password']);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    try {
      const u = await createUser({ email: email.trim(), role, password });
      setEmail('');
      setPassword('');
      onAdded(u);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card add-user" onSubmit={submit} aria-labelledby="add-user-title" noValidate>
      <h2 id="add-user-title">Add a user</h2>
      <TextField id="new-user-email" label="Email" error={errors.field.email} type="email" autoComplete="off" value={email} onValue={setEmail} />
      <Field id="new-user-role" label="Role" error={errors.field.role}>
        <select
          id="new-user-role"
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as Role)}
          aria-describedby={describedBy('new-user-role', errors.field.role)}
        >
          {ROLES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </Field>
      <Field
        id="new-user-password"
        label="Initial password"
        hint="At least 12 characters. Give it to them privately; they can be given a new one here."
        error={errors.field.password}
      >
        <input
          id="new-user-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          aria-invalid={errors.field.password ? 'true' : undefined}
          aria-describedby={describedBy('new-user-password', errors.field.password, 'hint')}
        />
      </Field>
      <FormError message={errors.form} />
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add user'}
      </button>
    </form>
  );
}

/** One person's role, status and password; disabling and a new password ask for a second click first. */
function ManageUser({ user, self, onChanged, onClose }: { user: User; self: boolean; onChanged: (message: string) => void; onClose: () => void }) {
  const [role, setRole] = useState<Role>(user.role);
  const [password, setPassword] = useState('');
  const [confirming, setConfirming] = useState<'disable' | 'password' | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errors = errorsFor(err, ['role', 'status', 'password']);

  const run = async (patch: Parameters<typeof updateUser>[1], message: string) => {
    setBusy(true);
    setErr(null);
    try {
      await updateUser(user.id, patch);
      setConfirming(null);
      setPassword('');
      onChanged(message);
    } catch (x) {
      setConfirming(null);
      setErr(x);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2 id="manage-title" tabIndex={-1}>
        Manage {user.email}
      </h2>
      {self && <p class="muted">This is you. The account always keeps one active admin: make someone else an admin before you step down.</p>}

      <form
        class="manage-row"
        onSubmit={(e) => {
          e.preventDefault();
          void run({ role }, `${user.email} is now ${role}.`);
        }}
      >
        <Field id="manage-role" label="Role" error={errors.field.role}>
          <select
            id="manage-role"
            value={role}
            onChange={(e) => setRole(e.currentTarget.value as Role)}
            aria-describedby={describedBy('manage-role', errors.field.role)}
          >
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" disabled={busy || role === user.role}>
          Change role
        </button>
      </form>

      <div class="manage-row" id="manage-status">
        {user.status === 'active' ? (
          confirming === 'disable' ? (
            <div class="confirm">
              <p id="confirm-disable">
                Disable {user.email}? {self ? 'You' : 'They'} are signed out at once and cannot sign in until enabled again.
              </p>
              <button type="button" class="danger" disabled={busy} onClick={() => void run({ status: 'disabled' }, `${user.email} is disabled.`)}>
                Yes, disable {user.email}
              </button>
              <button type="button" class="secondary" onClick={() => setConfirming(null)}>
                Cancel
              </button>
            </div>
          ) : (
            <button type="button" class="secondary" onClick={() => setConfirming('disable')} disabled={busy}>
              Disable user
            </button>
          )
        ) : (
          <button type="button" class="secondary" disabled={busy} onClick={() => void run({ status: 'active' }, `${user.email} is enabled again.`)}>
            Enable user
          </button>
        )}
        {errors.field.status !== undefined && (
          <p class="field-error" role="alert">
            {errors.field.status}
          </p>
        )}
      </div>

      <form
        class="manage-row"
        onSubmit={(e) => {
          e.preventDefault();
          setErr(null);
          setConfirming('password');
        }}
      >
        <Field id="manage-password" label="New password" hint="At least 12 characters. Their sessions end." error={errors.field.password}>
          <input
            id="manage-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onInput={(e) => {
              setPassword(e.currentTarget.value);
              setConfirming(null);
            }}
            aria-invalid={errors.field.password ? 'true' : undefined}
            aria-describedby={describedBy('manage-password', errors.field.password, 'hint')}
          />
        </Field>
        {confirming === 'password' ? (
          <div class="confirm">
            <p id="confirm-password">Give {user.email} this new password? Everywhere they are signed in, they are signed out.</p>
            <button type="button" class="danger" disabled={busy} onClick={() => void run({ password }, `${user.email} has a new password.`)}>
              Yes, reset the password
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(null)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="submit" class="secondary" disabled={busy || password === ''}>
            Reset password
          </button>
        )}
      </form>
      <FormError message={errors.form} />
      <button type="button" class="secondary small" onClick={onClose}>
        Close
      </button>
    </>
  );
}
