import { useEffect, useRef, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import type { Server } from '../api.js';
import {
  addSuppression,
  BULK_ADD_CHUNK,
  type BulkAddResult,
  bulkAddSuppressions,
  downloadUrl,
  removeSuppression,
  SUPPRESSION_REASONS,
  type Suppression,
  type SuppressionFilter,
  type SuppressionReason,
  searchSuppressions,
} from '../api/suppressions.js';
import { describedBy, errorsFor, Field, FormError, TextField } from '../ui/field.js';
import { formatCount, formatTime } from '../ui/format.js';
import { ServerPicker, useServers } from '../ui/server-picker.js';
import { useLoad } from '../ui/use-load.js';
import { chunkLines, parseUpload, type UploadLine } from './suppressions-upload.js';

const PAGE_SIZE = 50;
/** Larger files are refused before reading: the browser would hold the whole text in memory. */
const MAX_FILE_BYTES = 50 * 1024 * 1024;
/** Refused lines listed after an upload; the counts cover all of them. */
const MAX_REFUSED_SHOWN = 200;

const REASON_LABELS: Record<SuppressionReason, string> = {
  CustomerRequest: 'Customer request',
  Unsubscribe: 'Unsubscribe',
  Complaint: 'Complaint',
  Bounce: 'Bounce',
  Failure: 'Failure',
};

const SORTS = {
  newest: { label: 'Newest change first', sortField: 'suppressionLastUpdate', sortDirection: 'dsc' },
  oldest: { label: 'Oldest change first', sortField: 'suppressionLastUpdate', sortDirection: 'asc' },
  az: { label: 'Address A to Z', sortField: 'emailAddress', sortDirection: 'asc' },
  za: { label: 'Address Z to A', sortField: 'emailAddress', sortDirection: 'dsc' },
} as const;
type SortKey = keyof typeof SORTS;

function reasonClass(reason: SuppressionReason): string {
  return reason === 'Bounce' || reason === 'Complaint' || reason === 'Failure' ? 'badge badge-failed' : 'badge badge-warn';
}

function ReasonSelect({ id, value, onChange, error }: { id: string; value: SuppressionReason; onChange: (r: SuppressionReason) => void; error?: string }) {
  return (
    <select id={id} value={value} aria-describedby={describedBy(id, error)} onChange={(e) => onChange(e.currentTarget.value as SuppressionReason)}>
      {SUPPRESSION_REASONS.map((r) => (
        <option key={r} value={r}>
          {REASON_LABELS[r]}
        </option>
      ))}
    </select>
  );
}

export function SuppressionsPage({ session, query }: PageProps) {
  const { servers, error: serversError, selected } = useServers(query);
  const canEdit = session.user.role !== 'viewer';
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Suppressions
      </h1>
      <p class="muted">
        Addresses on a server's suppression list are accepted but never sent to. Permanent bounces are added automatically.
        {canEdit ? '' : ' As a viewer you can search and download the list, not change it.'}
      </p>
      {serversError !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {serversError}
        </p>
      )}
      {servers === null && serversError === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet, so there are no suppression lists.</p>}
      {selected !== null && servers !== null && (
        <>
          <div class="toolbar">
            <ServerPicker id="suppressions-server" servers={servers} selected={selected} path="/suppressions" />
          </div>
          {/* Keyed by server: switching servers starts with a clean search, forms and results. */}
          <ServerSuppressions key={selected.serverId} server={selected} canEdit={canEdit} />
        </>
      )}
    </section>
  );
}

type Loaded = { ok: { data: Suppression[]; total: number } } | { failure: unknown };

function ServerSuppressions({ server, canEdit }: { server: Server; canEdit: boolean }) {
  const id = server.serverId;
  const [filter, setFilter] = useState<SuppressionFilter>({ match: 'contains', text: '', sortField: 'suppressionLastUpdate', sortDirection: 'dsc' });
  const [pageNumber, setPageNumber] = useState(0);
  const [status, setStatus] = useState('');
  // The failure is kept whole (not only its message) so a refused filter is shown next to its field.
  const list = useLoad<Loaded>(
    () =>
      searchSuppressions(id, filter, pageNumber, PAGE_SIZE).then(
        (ok) => ({ ok }),
        (failure: unknown) => ({ failure }),
      ),
    [id, filter, pageNumber],
  );
  const changed = (message: string) => {
    setStatus(message);
    list.reload();
  };

  return (
    <>
      <p class="sup-status" role="status" aria-live="polite">
        {status}
      </p>
      {canEdit && (
        <div class="sup-forms">
          <AddForm serverId={id} onAdded={(s) => changed(`Added ${s.emailAddress} (${REASON_LABELS[s.reason]}).`)} />
          <UploadForm serverId={id} onDone={() => list.reload()} />
        </div>
      )}
      <SearchAndList
        server={server}
        canEdit={canEdit}
        filter={filter}
        loaded={list.data}
        loading={list.loading}
        pageNumber={pageNumber}
        onFilter={(f) => {
          setFilter(f);
          setPageNumber(0);
        }}
        onPage={setPageNumber}
        onRemoved={(address) => changed(`Removed ${address} from the list.`)}
      />
    </>
  );
}

function AddForm({ serverId, onAdded }: { serverId: number; onAdded: (s: Suppression) => void }) {
  const [address, setAddress] = useState('');
  const [reason, setReason] = useState<SuppressionReason>('CustomerRequest');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const errors = errorsFor(failure, ['emailAddress', 'reason']);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const added = await addSuppression(serverId, address.trim(), reason);
      setAddress('');
      onAdded(added);
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card sup-form" onSubmit={submit} noValidate aria-labelledby="sup-add-title">
      <h2 id="sup-add-title">Add an address</h2>
      <TextField
        id="sup-add-address"
        label="Email address"
        error={errors.field.emailAddress}
        type="email"
        autocomplete="off"
        value={address}
        onValue={setAddress}
      />
      <Field id="sup-add-reason" label="Reason" error={errors.field.reason}>
        <ReasonSelect id="sup-add-reason" value={reason} onChange={setReason} error={errors.field.reason} />
      </Field>
      <FormError message={errors.form} />
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add'}
      </button>
    </form>
  );
}

interface UploadOutcome {
  lines: number;
  added: number;
  updated: number;
  duplicates: number;
  refused: { line: number; text: string; why: string }[];
}

function UploadForm({ serverId, onDone }: { serverId: number; onDone: () => void }) {
  const file = useRef<HTMLInputElement>(null);
  const [reason, setReason] = useState<SuppressionReason>('CustomerRequest');
  const [fileError, setFileError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [outcome, setOutcome] = useState<UploadOutcome | null>(null);
  const busy = progress !== null;

  const submit = async (e: Event) => {
    e.preventDefault();
    setFileError(null);
    setFormError(null);
    setOutcome(null);
    const chosen = file.current?.files?.[0];
    if (chosen === undefined) return setFileError('Choose a file first.');
    if (chosen.size > MAX_FILE_BYTES) return setFileError(`The file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; split it into smaller files.`);
    let lines: UploadLine[];
    try {
      lines = parseUpload(await chosen.text());
    } catch {
      return setFileError('The file could not be read.');
    }
    if (lines.length === 0) return setFileError('The file has no addresses in it.');

    // Sent in chunks (the API takes 1,000 per request); the counts add up as each answers.
    const total: UploadOutcome = { lines: lines.length, added: 0, updated: 0, duplicates: 0, refused: [] };
    setProgress({ done: 0, total: lines.length });
    let done = 0;
    try {
      for (const chunk of chunkLines(lines, BULK_ADD_CHUNK)) {
        const r: BulkAddResult = await bulkAddSuppressions(
          serverId,
          chunk.map((l) => l.address),
          reason,
        );
        total.added += r.added;
        total.updated += r.updated;
        total.duplicates += r.duplicates;
        for (const x of r.refused) total.refused.push({ line: chunk[x.index]?.line ?? 0, text: x.emailAddress, why: x.message });
        done += chunk.length;
        setProgress({ done, total: lines.length });
      }
    } catch (err) {
      setFormError(
        `The upload stopped after ${formatCount(done)} of ${formatCount(lines.length)} lines: ${(err as Error).message}. The lines before that were handled (counts below).`,
      );
    } finally {
      setProgress(null);
      setOutcome(total);
      onDone();
    }
  };

  return (
    <form class="card sup-form" onSubmit={submit} noValidate aria-labelledby="sup-upload-title">
      <h2 id="sup-upload-title">Upload a list</h2>
      <Field id="sup-upload-file" label="File" hint="A CSV with an email column, or one address per line." error={fileError}>
        <input
          id="sup-upload-file"
          ref={file}
          type="file"
          accept=".csv,.txt,text/csv,text/plain"
          aria-invalid={fileError ? 'true' : undefined}
          aria-describedby={describedBy('sup-upload-file', fileError, 'hint')}
          onChange={() => setFileError(null)}
        />
      </Field>
      <Field id="sup-upload-reason" label="Reason for these addresses">
        <ReasonSelect id="sup-upload-reason" value={reason} onChange={setReason} />
      </Field>
      <FormError message={formError} />
      {progress !== null && (
        <div class="sup-progress">
          <label for="sup-upload-progress">Uploading</label>
          <progress id="sup-upload-progress" max={progress.total} value={progress.done}>
            {progress.done} of {progress.total}
          </progress>
          <span class="muted">
            {formatCount(progress.done)} of {formatCount(progress.total)} lines
          </span>
        </div>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Uploading…' : 'Upload'}
      </button>
      {outcome !== null && <UploadSummary outcome={outcome} />}
    </form>
  );
}

function UploadSummary({ outcome }: { outcome: UploadOutcome }) {
  const shown = outcome.refused.slice(0, MAX_REFUSED_SHOWN);
  return (
    <div class="sup-summary">
      <p role="status">
        {formatCount(outcome.lines)} lines read: <strong>{formatCount(outcome.added)} added</strong>, {formatCount(outcome.updated)} already on the list (reason
        updated), {formatCount(outcome.duplicates)} repeated in the file, <strong>{formatCount(outcome.refused.length)} refused</strong>.
      </p>
      {shown.length > 0 && (
        <div class="table-wrap">
          <table class="messages sup-refused">
            <caption>
              Refused lines{outcome.refused.length > shown.length ? ` (the first ${shown.length} of ${formatCount(outcome.refused.length)})` : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Line</th>
                <th scope="col">Text</th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.line}>
                  <td data-label="Line">{r.line}</td>
                  <td data-label="Text" class="recipient">
                    {r.text === '' ? <span class="muted">(empty)</span> : r.text}
                  </td>
                  <td data-label="Why">{r.why}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function SearchAndList({
  server,
  canEdit,
  filter,
  loaded,
  loading,
  pageNumber,
  onFilter,
  onPage,
  onRemoved,
}: {
  server: Server;
  canEdit: boolean;
  filter: SuppressionFilter;
  loaded: Loaded | null;
  loading: boolean;
  pageNumber: number;
  onFilter: (f: SuppressionFilter) => void;
  onPage: (n: number) => void;
  onRemoved: (address: string) => void;
}) {
  const [text, setText] = useState(filter.text);
  const [match, setMatch] = useState(filter.match);
  const [sort, setSort] = useState<SortKey>('newest');
  const [confirming, setConfirming] = useState<string | null>(null);
  const [removeError, setRemoveError] = useState<string | null>(null);

  const failure = loaded !== null && 'failure' in loaded ? loaded.failure : null;
  const errors = errorsFor(failure, ['startsWith', 'contains']);
  const textError = errors.field.startsWith ?? errors.field.contains;
  const page = loaded !== null && 'ok' in loaded ? loaded.ok : null;
  const rows = page?.data ?? null;
  const total = page?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const filtered = filter.text !== '';

  const submit = (e: Event) => {
    e.preventDefault();
    setConfirming(null);
    onFilter({ match, text: text.trim(), sortField: SORTS[sort].sortField, sortDirection: SORTS[sort].sortDirection });
  };
  const clear = () => {
    setText('');
    onFilter({ ...filter, text: '' });
  };
  const remove = async (address: string) => {
    setRemoveError(null);
    try {
      await removeSuppression(server.serverId, address);
      setConfirming(null);
      onRemoved(address);
    } catch (err) {
      setRemoveError(`Could not remove ${address}: ${(err as Error).message}`);
    }
  };

  return (
    <section aria-labelledby="sup-list-title">
      <h2 id="sup-list-title">Suppression list</h2>
      <form class="toolbar sup-search" onSubmit={submit}>
        <TextField id="sup-search-text" label="Find addresses" error={textError} type="search" value={text} onValue={setText} />
        <Field id="sup-search-match" label="Match">
          <select id="sup-search-match" value={match} onChange={(e) => setMatch(e.currentTarget.value as SuppressionFilter['match'])}>
            <option value="contains">Containing the text</option>
            <option value="startsWith">Starting with the text</option>
          </select>
        </Field>
        <Field id="sup-search-sort" label="Sort">
          <select id="sup-search-sort" value={sort} onChange={(e) => setSort(e.currentTarget.value as SortKey)}>
            {(Object.keys(SORTS) as SortKey[]).map((k) => (
              <option key={k} value={k}>
                {SORTS[k].label}
              </option>
            ))}
          </select>
        </Field>
        <div class="sup-search-buttons">
          <button type="submit">Search</button>
          {filtered && (
            <button type="button" class="secondary" onClick={clear}>
              Show all
            </button>
          )}
          <a class="button secondary" href={downloadUrl(server.serverId, filter)} download>
            Download CSV
          </a>
        </div>
      </form>
      <FormError message={errors.form === null ? null : `Could not load the list: ${errors.form}`} />
      <FormError message={removeError} />
      <p class="muted" aria-live="polite">
        {loading
          ? 'Loading the list…'
          : rows === null
            ? ''
            : rows.length === 0
              ? filtered
                ? `No address ${filter.match === 'startsWith' ? 'starts with' : 'contains'} “${filter.text}”.`
                : 'The list is empty: this server sends to every address.'
              : `Showing ${formatCount(pageNumber * PAGE_SIZE + 1)}–${formatCount(pageNumber * PAGE_SIZE + rows.length)} of ${formatCount(total)} ${total === 1 ? 'address' : 'addresses'}.`}
      </p>
      {rows !== null && rows.length > 0 && (
        <>
          <div class="table-wrap">
            <table class="messages sup-table">
              <caption>
                Suppression list of {server.name}
                {filtered ? ` (addresses ${filter.match === 'startsWith' ? 'starting with' : 'containing'} “${filter.text}”)` : ''}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Detail</th>
                  <th scope="col">Added</th>
                  <th scope="col">Last change</th>
                  {canEdit && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {rows.map((s) => (
                  <tr key={s.emailAddress}>
                    <td data-label="Address" class="recipient">
                      {s.emailAddress}
                    </td>
                    <td data-label="Reason">
                      <span class={reasonClass(s.reason)}>{REASON_LABELS[s.reason] ?? s.reason}</span>
                    </td>
                    <td data-label="Detail" class="sup-detail">
                      {s.detail ?? <span class="muted">—</span>}
                    </td>
                    <td data-label="Added">
                      <time dateTime={s.createdOn}>{formatTime(s.createdOn)}</time>
                    </td>
                    <td data-label="Last change">
                      <time dateTime={s.lastUpdate}>{formatTime(s.lastUpdate)}</time>
                    </td>
                    {canEdit && (
                      <td data-label="Actions">
                        <RemoveControl
                          address={s.emailAddress}
                          confirming={confirming === s.emailAddress}
                          onAsk={() => setConfirming(s.emailAddress)}
                          onCancel={() => setConfirming(null)}
                          onConfirm={() => remove(s.emailAddress)}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pages > 1 && (
            <nav class="toolbar sup-pager" aria-label="Pages of the list">
              <button type="button" class="secondary" disabled={pageNumber === 0 || loading} onClick={() => onPage(pageNumber - 1)}>
                Previous page
              </button>
              <span>
                Page {formatCount(pageNumber + 1)} of {formatCount(pages)}
              </span>
              <button type="button" class="secondary" disabled={pageNumber + 1 >= pages || loading} onClick={() => onPage(pageNumber + 1)}>
                Next page
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

/** "Remove", then a second, explicit "Yes, remove" (or "Cancel"): removing means mail to the address is sent again. */
function RemoveControl({
  address,
  confirming,
  onAsk,
  onCancel,
  onConfirm,
}: {
  address: string;
  confirming: boolean;
  onAsk: () => void;
  onCancel: () => void;
  onConfirm: () => Promise<void>;
}) {
  const yes = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (confirming) yes.current?.focus();
  }, [confirming]);
  if (!confirming) {
    return (
      <button type="button" class="secondary small" aria-label={`Remove ${address}`} onClick={onAsk}>
        Remove
      </button>
    );
  }
  return (
    <span class="sup-confirm">
      <span>Send to it again?</span>
      <button
        type="button"
        class="small danger"
        ref={yes}
        disabled={busy}
        aria-label={`Yes, remove ${address}`}
        onClick={async () => {
          setBusy(true);
          await onConfirm();
          setBusy(false);
        }}
      >
        Yes, remove
      </button>
      <button type="button" class="secondary small" aria-label={`Cancel removing ${address}`} onClick={onCancel}>
        Cancel
      </button>
    </span>
  );
}
