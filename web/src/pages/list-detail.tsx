import { useEffect, useRef, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { type Contact, type ImportJob, type ListSend, type ListsApi, listsApi, type Preview, type SendMessage } from '../api/lists.js';
import { Link } from '../link.js';
import { describedBy, errorsFor, Field, FormError, TextField } from '../ui/field.js';
import { formatCount } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';

const PAGE_SIZE = 20;
/** How often a running import or send is asked for its progress. */
const POLL_MS = 400;

/**
 * `/lists/list?server=ID&list=ID`: one list's contacts (search by address prefix, pages of 20, add,
 * remove after a second click), a CSV import with a progress bar and its refused rows, and a send
 * to the list with a merged preview for one contact (HTML in a sandboxed frame, no scripts).
 */
export function ListDetailPage({ session, query }: PageProps) {
  const serverId = Number(query.get('server'));
  const listId = Number(query.get('list'));
  const api = listsApi(serverId, session.csrfToken);
  const lists = useLoad(() => api.lists(), [serverId]);
  const list = lists.data?.find((l) => l.listId === listId) ?? null;
  const canChange = session.user.role !== 'viewer';
  const [changed, setChanged] = useState(0);
  const touched = () => {
    setChanged((n) => n + 1);
    lists.reload();
  };

  return (
    <section aria-labelledby="page-title" class="lists-page">
      <p>
        <Link href={`/lists?server=${serverId}`}>← All lists</Link>
      </p>
      <h1 id="page-title" tabIndex={-1}>
        {list ? `List: ${list.name}` : 'List'}
      </h1>
      {lists.loading && lists.data === null && <p aria-busy="true">Loading the list…</p>}
      {lists.error !== null && (
        <p class="form-error" role="alert">
          Could not load the list: {lists.error}
        </p>
      )}
      {lists.data !== null && list === null && (
        <p class="form-error">
          There is no list {listId} on server {serverId}.
        </p>
      )}
      {list !== null && (
        <>
          <p class="muted">
            {formatCount(list.contactCount)} contacts on this list (server #{serverId}).
          </p>
          <Contacts api={api} listId={listId} canChange={canChange} changed={changed} onChange={touched} />
          {canChange && <ImportSection api={api} listId={listId} onDone={touched} />}
          {canChange && <SendSection api={api} listId={listId} serverId={serverId} changed={changed} />}
        </>
      )}
    </section>
  );
}

function Contacts({ api, listId, canChange, changed, onChange }: { api: ListsApi; listId: number; canChange: boolean; changed: number; onChange: () => void }) {
  const [search, setSearch] = useState('');
  const [applied, setApplied] = useState('');
  const [pageNumber, setPageNumber] = useState(0);
  const page = useLoad(() => api.contacts(listId, applied, PAGE_SIZE, pageNumber), [listId, applied, pageNumber, changed]);
  const total = page.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <section aria-labelledby="contacts-title">
      <h2 id="contacts-title">Contacts</h2>
      <form
        class="toolbar"
        aria-label="Search contacts"
        onSubmit={(e) => {
          e.preventDefault();
          setPageNumber(0);
          setApplied(search.trim().toLowerCase());
        }}
      >
        <Field id="contact-search" label="Address starts with" inline>
          <input id="contact-search" type="search" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </Field>
        <button type="submit">Search</button>
      </form>
      <p class="muted" aria-live="polite">
        {page.loading
          ? 'Loading contacts…'
          : page.data === null
            ? ''
            : total === 0
              ? applied === ''
                ? 'No contacts on this list yet.'
                : `No contact's address starts with "${applied}".`
              : `${formatCount(total)} contacts${applied === '' ? '' : ` whose address starts with "${applied}"`}; page ${pageNumber + 1} of ${pages}.`}
      </p>
      {page.error !== null && (
        <p class="form-error" role="alert">
          Could not load the contacts: {page.error}
        </p>
      )}
      {page.data !== null && page.data.contacts.length > 0 && (
        <div class="table-wrap">
          <table class="messages">
            <caption>Contacts, page {pageNumber + 1}</caption>
            <thead>
              <tr>
                <th scope="col">Address</th>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                {canChange && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {page.data.contacts.map((c) => (
                <ContactRow key={c.contactId} c={c} canChange={canChange} remove={() => api.removeContact(listId, c.emailAddress)} onRemoved={onChange} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {total > PAGE_SIZE && (
        <nav class="toolbar" aria-label="Contact pages">
          <button type="button" class="secondary" disabled={pageNumber === 0 || page.loading} onClick={() => setPageNumber((n) => n - 1)}>
            Previous page
          </button>
          <button type="button" class="secondary" disabled={pageNumber + 1 >= pages || page.loading} onClick={() => setPageNumber((n) => n + 1)}>
            Next page
          </button>
        </nav>
      )}
      {canChange && <AddContactForm api={api} listId={listId} onAdded={onChange} />}
    </section>
  );
}

function ContactRow({ c, canChange, remove, onRemoved }: { c: Contact; canChange: boolean; remove: () => Promise<void>; onRemoved: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = [c.firstName, c.lastName].filter((x) => x).join(' ');
  const doRemove = async () => {
    setBusy(true);
    setError(null);
    try {
      await remove();
      onRemoved();
    } catch (x) {
      setError((x as Error).message);
      setBusy(false);
    }
  };
  return (
    <tr>
      <td data-label="Address" class="recipient">
        {c.emailAddress}
      </td>
      <td data-label="Name">{name === '' ? <span class="muted">(none)</span> : name}</td>
      <td data-label="Status">{c.unsubscribed ? <span class="badge badge-warn">Unsubscribed</span> : <span class="badge badge-ok">Subscribed</span>}</td>
      {canChange && (
        <td data-label="Actions">
          {!confirming ? (
            <button type="button" class="secondary small" onClick={() => setConfirming(true)} aria-label={`Remove ${c.emailAddress}`}>
              Remove
            </button>
          ) : (
            <span class="confirm">
              <span>Take {c.emailAddress} off the list?</span>
              <button type="button" class="danger small" onClick={doRemove} disabled={busy}>
                Remove from list
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

function AddContactForm({ api, listId, onAdded }: { api: ListsApi; listId: number; onAdded: () => void }) {
  const [email, setEmail] = useState('');
  const [first, setFirst] = useState('');
  const [last, setLast] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const errors = errorsFor(err, ['emailAddress', 'firstName', 'lastName']);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setDone(null);
    try {
      const c = await api.addContact(listId, { emailAddress: email, ...(first ? { firstName: first } : {}), ...(last ? { lastName: last } : {}) });
      setEmail('');
      setFirst('');
      setLast('');
      setDone(`${c.emailAddress} is on the list.`);
      onAdded();
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card" onSubmit={submit} noValidate>
      <h3>Add a contact</h3>
      <TextField id="add-email" label="Email address" error={errors.field.emailAddress} type="email" value={email} onValue={setEmail} />
      <TextField id="add-first" label="First name" error={errors.field.firstName} value={first} maxLength={100} onValue={setFirst} />
      <TextField id="add-last" label="Last name" error={errors.field.lastName} value={last} maxLength={100} onValue={setLast} />
      <FormError message={errors.form} />
      <button type="submit" disabled={busy}>
        Add contact
      </button>
      <p class="muted" aria-live="polite">
        {done}
      </p>
    </form>
  );
}

function ImportSection({ api, listId, onDone }: { api: ListsApi; listId: number; onDone: () => void }) {
  const file = useRef<HTMLInputElement>(null);
  const [err, setErr] = useState<unknown>(null);
  const [job, setJob] = useState<ImportJob | null>(null);
  const [busy, setBusy] = useState(false);
  const errors = errorsFor(err, ['file']);
  const running = job?.state === 'running';

  // While the job runs, ask for its progress; stop when it is done, failed, or the page goes.
  useEffect(() => {
    if (job?.state !== 'running') return;
    const timer = setTimeout(() => {
      api
        .importJob(listId, job.importId)
        .then((j) => {
          setJob(j);
          if (j.state !== 'running') onDone();
        })
        .catch((x) => setErr(x));
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [job]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    const f = file.current?.files?.[0];
    if (!f) {
      setErr(new Error('Choose a CSV file to import.'));
      return;
    }
    setBusy(true);
    try {
      setJob(await api.startImport(listId, await f.text()));
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="import-title" class="card">
      <h2 id="import-title">Import contacts from CSV</h2>
      <form onSubmit={submit} noValidate>
        <Field
          id="import-file"
          label="CSV file"
          hint="A header row with emailAddress and optionally firstName, lastName and the server's custom fields."
          error={errors.field.file}
        >
          <input id="import-file" ref={file} type="file" accept=".csv,text/csv" aria-describedby={describedBy('import-file', errors.field.file, 'hint')} />
        </Field>
        <FormError message={errors.form} />
        <button type="submit" disabled={busy || running}>
          Import
        </button>
      </form>
      {job !== null && (
        <div class="import-status">
          <label for="import-progress">Import progress</label>
          <progress id="import-progress" max={Math.max(job.totalRows, 1)} value={job.totalRows === 0 ? 1 : job.rowsDone} />
          <p aria-live="polite">
            {job.state === 'running'
              ? `Importing: ${formatCount(job.rowsDone)} of ${formatCount(job.totalRows)} rows…`
              : job.state === 'done'
                ? `Import done: ${formatCount(job.totalRows)} rows read, ${formatCount(job.imported)} new contacts, ${formatCount(job.updated)} updated, ${formatCount(job.rejected)} refused.`
                : `Import stopped after ${formatCount(job.rowsDone)} rows: ${job.error ?? 'unknown error'}`}
          </p>
          {job.rejectedRows.length > 0 && (
            <div class="table-wrap">
              <table class="messages">
                <caption>Refused rows</caption>
                <thead>
                  <tr>
                    <th scope="col">Row</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {job.rejectedRows.map((r) => (
                    <tr key={r.row}>
                      <td data-label="Row">{r.row}</td>
                      <td data-label="Why" class="recipient">
                        {r.reason}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {job.rejectedNotListed > 0 && <p class="muted">…and {formatCount(job.rejectedNotListed)} more refused rows.</p>}
            </div>
          )}
        </div>
      )}
    </section>
  );
}

function SendSection({ api, listId, serverId, changed }: { api: ListsApi; listId: number; serverId: number; changed: number }) {
  const templates = useLoad(() => api.templates(), [serverId]);
  // The contacts a preview can be made for: the first page of the list.
  const people = useLoad(() => api.contacts(listId, '', 100, 0), [listId, changed]);
  const [fromEmail, setFromEmail] = useState('');
  const [fromName, setFromName] = useState('');
  const [template, setTemplate] = useState('');
  const [subject, setSubject] = useState('');
  const [html, setHtml] = useState('');
  const [text, setText] = useState('');
  const [contactId, setContactId] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<Preview | null>(null);
  const [send, setSend] = useState<ListSend | null>(null);
  const [confirming, setConfirming] = useState(false);
  const errors = errorsFor(err, ['contactId']);
  const chosen = contactId !== '' ? contactId : String(people.data?.contacts[0]?.contactId ?? '');

  useEffect(() => {
    if (send?.state !== 'expanding') return;
    const timer = setTimeout(() => {
      api
        .sendStatus(listId, send.sendId)
        .then(setSend)
        .catch((x) => setErr(x));
    }, POLL_MS);
    return () => clearTimeout(timer);
  }, [send]);

  const message = (): SendMessage => ({
    From: { EmailAddress: fromEmail.trim(), ...(fromName.trim() ? { FriendlyName: fromName.trim() } : {}) },
    Subject: subject,
    ...(html !== '' ? { HtmlBody: html } : {}),
    ...(text !== '' ? { TextBody: text } : {}),
    ...(template !== '' ? { ApiTemplate: Number(template) } : {}),
  });

  const doPreview = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setConfirming(false);
    if (chosen === '') {
      setErr(new Error('The list has no contact to preview the message for.'));
      return;
    }
    setBusy(true);
    try {
      setPreview(await api.preview(listId, Number(chosen), message()));
    } catch (x) {
      setPreview(null);
      setErr(x);
    } finally {
      setBusy(false);
    }
  };

  const doSend = async () => {
    setBusy(true);
    setErr(null);
    try {
      setSend(await api.send(listId, message()));
      setConfirming(false);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="send-title" class="card">
      <h2 id="send-title">Send to list</h2>
      <form onSubmit={doPreview} noValidate>
        <Field id="send-from" label="From address">
          <input id="send-from" type="email" value={fromEmail} onInput={(e) => setFromEmail(e.currentTarget.value)} />
        </Field>
        <Field id="send-from-name" label="From name">
          <input id="send-from-name" value={fromName} onInput={(e) => setFromName(e.currentTarget.value)} />
        </Field>
        <Field id="send-template" label="Template" hint="A stored template supplies the bodies; leave it at none to write them here.">
          <select id="send-template" value={template} onChange={(e) => setTemplate(e.currentTarget.value)} aria-describedby="send-template-hint">
            <option value="">None: write the message below</option>
            {(templates.data?.data ?? []).map((t) => (
              <option key={t.templateId} value={String(t.templateId)}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        <Field
          id="send-subject"
          label="Subject"
          hint="Merge fields: %%FirstName%%, %%LastName%%, %%RecipientName%%, %%EmailAddress%%, %%ContactId%%, custom fields by name."
        >
          <input id="send-subject" value={subject} onInput={(e) => setSubject(e.currentTarget.value)} aria-describedby="send-subject-hint" />
        </Field>
        <Field id="send-html" label="HTML body">
          <textarea id="send-html" rows={5} value={html} onInput={(e) => setHtml(e.currentTarget.value)} />
        </Field>
        <Field id="send-text" label="Text body">
          <textarea id="send-text" rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </Field>
        <Field id="send-contact" label="Preview for contact" error={errors.field.contactId}>
          <select
            id="send-contact"
            value={chosen}
            onChange={(e) => setContactId(e.currentTarget.value)}
            aria-describedby={describedBy('send-contact', errors.field.contactId)}
          >
            {(people.data?.contacts ?? []).map((c) => (
              <option key={c.contactId} value={String(c.contactId)}>
                {c.emailAddress}
              </option>
            ))}
          </select>
        </Field>
        <FormError message={errors.form} />
        <div class="toolbar">
          <button type="submit" disabled={busy}>
            Preview
          </button>
          {preview !== null && !confirming && (
            <button type="button" class="secondary" onClick={() => setConfirming(true)} disabled={busy}>
              Send to list…
            </button>
          )}
        </div>
        {confirming && (
          <p class="confirm">
            <span>Send this message to every subscribed contact of the list?</span>
            <button type="button" class="danger" onClick={doSend} disabled={busy}>
              Send now
            </button>
            <button type="button" class="secondary" onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </button>
          </p>
        )}
      </form>
      {preview !== null && <PreviewView p={preview} />}
      {send !== null && (
        <div class="send-status" aria-live="polite">
          <h3>Send #{send.sendId}</h3>
          <p>
            {send.state === 'expanding' ? 'Sending: adding recipients…' : 'Send accepted: every contact has been seen.'} {formatCount(send.contactsSeen)}{' '}
            contacts seen, {formatCount(send.queued)} queued, {formatCount(send.skippedUnsubscribed)} unsubscribed skipped,{' '}
            {formatCount(send.skippedSuppressed)} suppressed.
          </p>
          <p>
            <Link href={`/activity?server=${serverId}`}>See the recipients in Activity</Link>
          </p>
        </div>
      )}
    </section>
  );
}

/** The merged message: headers as text, the HTML only inside a sandboxed frame (no scripts, no same-origin). */
function PreviewView({ p }: { p: Preview }) {
  const who = (a: { emailAddress: string; friendlyName: string | null }) => (a.friendlyName ? `${a.friendlyName} <${a.emailAddress}>` : a.emailAddress);
  return (
    <section aria-labelledby="preview-title" class="preview">
      <h3 id="preview-title">Preview for {p.to.emailAddress}</h3>
      {p.unsubscribed && <p class="form-error">This contact is unsubscribed: the send will skip them.</p>}
      <dl class="preview-head">
        <dt>From</dt>
        <dd>{who(p.from)}</dd>
        <dt>To</dt>
        <dd>{who(p.to)}</dd>
        <dt>Subject</dt>
        <dd class="preview-subject">{p.subject}</dd>
      </dl>
      {p.htmlBody !== null && <iframe class="preview-html" title="HTML body preview" sandbox="" srcdoc={p.htmlBody} />}
      {p.textBody !== null && <pre class="preview-text">{p.textBody}</pre>}
    </section>
  );
}
