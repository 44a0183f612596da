import { useEffect, useRef, useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import {
  deleteCustomDomain,
  deleteSendingDomain,
  getCustomDomain,
  getSendingDomain,
  rotateDkim,
  sendingDnsRecords,
  updateCustomDomain,
  verifyCustomDomain,
  verifySendingDomain,
  type CustomDomain,
  type CustomKind,
  type RecordStatus,
  type SendingDomain,
  type SendingRecord,
} from '../api/domains.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { CopyButton } from '../ui/copy-button.js';
import { errorsFor, FormError, TextField } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';
import { KIND_NAMES, type DomainKind } from './domains.js';

/** One record to publish with what its last check found, whichever kind of domain it belongs to. */
interface RecordRow {
  type: string;
  name: string;
  value: string;
  purpose: string;
  required: boolean;
  chunks?: string[];
  status: RecordStatus;
  found: string[];
  /** Why it is not verified (the API's reason or lookup error). */
  note?: string;
}

const STATUS_TEXT: Record<RecordStatus, { text: string; cls: string }> = {
  verified: { text: 'Found', cls: 'badge badge-ok' },
  missing: { text: 'Missing', cls: 'badge badge-failed' },
  mismatch: { text: 'Wrong value', cls: 'badge badge-failed' },
  error: { text: 'Lookup failed', cls: 'badge badge-warn' },
  unchecked: { text: 'Not checked yet', cls: 'badge' },
};

/**
 * The records to publish (`dns-records`) joined with the last verification (`lastCheck`): a
 * record the last check did not cover (a key added by a rotation since) is "not checked yet".
 */
function sendingRows(records: SendingRecord[], d: SendingDomain): RecordRow[] {
  return records.map((r) => {
    const c = d.lastCheck?.find((x) => x.type === r.type && x.name === r.name && x.expected === r.value);
    return {
      type: r.type,
      name: r.name,
      value: r.value,
      purpose: r.purpose,
      required: r.required,
      ...(r.chunks ? { chunks: r.chunks } : {}),
      status: c?.status ?? 'unchecked',
      found: c?.found ?? [],
      ...(c?.reason !== undefined ? { note: c.reason } : {}),
    };
  });
}

function customRows(kind: CustomKind, d: CustomDomain): RecordRow[] {
  return d.records.map((r) => ({
    type: r.type,
    name: r.name,
    value: r.expected,
    purpose:
      kind === 'bounce'
        ? 'CNAME to Postline: bounces reach Postline, SPF passes for the domain'
        : "CNAME to Postline: Postline's tracking links answer at this host",
    required: true,
    status: r.status,
    found: r.found,
    ...(r.error !== undefined ? { note: r.error } : {}),
  }));
}

function kindOf(v: string | null): DomainKind | null {
  return v === 'sending' || v === 'bounce' || v === 'tracking' ? v : null;
}

/** What the page shows of a domain, whichever kind. */
interface Shown {
  domain: string;
  verified: boolean;
  verifiedOn: string | null;
  lastCheckedOn: string | null;
  rows: RecordRow[];
  sending?: SendingDomain;
  custom?: CustomDomain;
}

async function loadDomain(serverId: number, kind: DomainKind, id: number): Promise<Shown> {
  if (kind === 'sending') {
    const [d, records] = await Promise.all([getSendingDomain(serverId, id), sendingDnsRecords(serverId, id)]);
    return { domain: d.domain, verified: d.verified, verifiedOn: d.verifiedOn, lastCheckedOn: d.lastCheckedOn, rows: sendingRows(records, d), sending: d };
  }
  const d = await getCustomDomain(serverId, kind, id);
  return { domain: d.domain, verified: d.verified, verifiedOn: d.verifiedOn, lastCheckedOn: d.lastCheckedOn, rows: customRows(kind, d), custom: d };
}

export function DomainDetailPage({ session, query }: PageProps) {
  const serverId = Number(query.get('server'));
  const kind = kindOf(query.get('kind'));
  const id = Number(query.get('id'));
  const valid = kind !== null && Number.isInteger(serverId) && serverId > 0 && Number.isInteger(id) && id > 0;
  const loaded = useLoad(() => (valid ? loadDomain(serverId, kind, id) : null), [serverId, kind, id]);
  const canChange = session.user.role !== 'viewer';
  const back = `/domains?server=${encodeURIComponent(String(serverId))}`;
  const d = loaded.data;
  const names = kind === null ? null : KIND_NAMES[kind];

  return (
    <section aria-labelledby="page-title">
      <p class="domains-back">
        <Link href={back}>← All domains</Link>
      </p>
      <h1 id="page-title" tabIndex={-1}>
        {names === null ? 'Domain' : names.one}
        {d !== null && <span class="domains-name"> {d.domain}</span>}
      </h1>
      {!valid && (
        <p class="form-error" role="alert">
          This link does not name a domain. Go back to <Link href="/domains">the domains</Link>.
        </p>
      )}
      {loaded.error !== null && (
        <p class="form-error" role="alert">
          Could not load the domain: {loaded.error}
        </p>
      )}
      {valid && d === null && loaded.error === null && <p aria-busy="true">Loading the domain…</p>}
      {valid && d !== null && (
        <>
          <Verification serverId={serverId} kind={kind} id={id} shown={d} canChange={canChange} reload={loaded.reload} busy={loaded.loading} />
          <RecordsTable rows={d.rows} domain={d.domain} />
          {d.sending !== undefined && <DkimKeys serverId={serverId} domain={d.sending} canChange={canChange} reload={loaded.reload} />}
          {d.custom !== undefined && kind !== 'sending' && (
            <CustomSettings serverId={serverId} kind={kind} domain={d.custom} canChange={canChange} reload={loaded.reload} />
          )}
          {canChange && <DeleteDomain serverId={serverId} kind={kind} id={id} domain={d.domain} />}
        </>
      )}
    </section>
  );
}

/** The domain's state and the "Check again" button (the live lookup of every record). */
function Verification({
  serverId,
  kind,
  id,
  shown,
  canChange,
  reload,
  busy,
}: {
  serverId: number;
  kind: DomainKind;
  id: number;
  shown: Shown;
  canChange: boolean;
  reload: () => void;
  busy: boolean;
}) {
  const [checking, setChecking] = useState(false);
  const [said, setSaid] = useState('');
  const [failure, setFailure] = useState<string | null>(null);

  const check = async () => {
    setChecking(true);
    setFailure(null);
    setSaid('');
    try {
      const verified = kind === 'sending' ? (await verifySendingDomain(serverId, id)).verified : (await verifyCustomDomain(serverId, kind, id)).verified;
      setSaid(verified ? 'Checked just now: the domain is verified.' : 'Checked just now: some records are not right yet. See each record below.');
      reload();
    } catch (err) {
      setFailure((err as Error).message);
    } finally {
      setChecking(false);
    }
  };

  return (
    <div class="domains-state">
      <p>
        {shown.verified ? (
          <span class="badge badge-ok">Verified</span>
        ) : (
          <span class={shown.lastCheckedOn === null ? 'badge' : 'badge badge-failed'}>{shown.lastCheckedOn === null ? 'Not checked yet' : 'Not verified'}</span>
        )}{' '}
        <span class="muted">
          {shown.lastCheckedOn === null ? 'Its DNS records have not been checked yet.' : `Last checked ${formatTime(shown.lastCheckedOn)}.`}
          {shown.verifiedOn !== null && ` Verified since ${formatTime(shown.verifiedOn)}.`}
        </span>
      </p>
      {canChange && (
        <div class="toolbar">
          <button type="button" onClick={check} disabled={checking || busy}>
            {checking ? 'Checking…' : 'Check again'}
          </button>
          <span class="muted">Looks every record up in DNS now. DNS changes can take a while to be seen.</span>
        </div>
      )}
      <p role="status" aria-live="polite" class="domains-said">
        {said}
      </p>
      <FormError message={failure === null ? null : `The check failed: ${failure}`} />
    </div>
  );
}

function RecordsTable({ rows, domain }: { rows: RecordRow[]; domain: string }) {
  return (
    <>
      <h2>DNS records to publish</h2>
      <p class="muted">
        Publish these at your DNS provider, then check again.
        {rows.some((r) => !r.required) && ' Records described as recommended are not needed for the domain to count as verified.'}
      </p>
      <div class="table-wrap">
        <table class="messages domains-records">
          <caption>DNS records of {domain}</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => {
              const what = `${r.type} record ${i + 1}`;
              const st = STATUS_TEXT[r.status];
              return (
                <tr key={`${r.type} ${r.name} ${r.value}`}>
                  <td data-label="Type">
                    <strong>{r.type}</strong>
                    <span class="domains-purpose">{r.purpose}</span>
                  </td>
                  <td data-label="Name">
                    <code class="domains-value">{r.name}</code>
                    <CopyButton value={r.name} what={`name of ${what}`} />
                  </td>
                  <td data-label="Value">
                    <code class="domains-value">{r.value}</code>
                    <CopyButton value={r.value} what={`value of ${what}`} />
                    {r.chunks !== undefined && r.chunks.length > 1 && (
                      <p class="muted small-text">
                        Longer than 255 characters: publish it as one TXT record of {r.chunks.length} quoted strings.{' '}
                        <CopyButton value={r.chunks.map((c) => `"${c}"`).join(' ')} label="Copy as strings" what={`value of ${what}`} />
                      </p>
                    )}
                  </td>
                  <td data-label="Status">
                    <span class={st.cls}>{st.text}</span>
                    {r.status !== 'verified' && r.found.length > 0 && (
                      <span class="domains-found">
                        DNS returned:{' '}
                        {r.found.map((f) => (
                          <code key={f} class="domains-value">
                            {f}
                          </code>
                        ))}
                      </span>
                    )}
                    {r.status !== 'verified' && r.note !== undefined && <span class="domains-found">{r.note}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

const KEY_STATE: Record<string, string> = {
  pending: 'Pending: publish its record, then check again',
  active: 'Active: signs mail',
  retiring: 'Retiring: keep its record until the overlap ends',
  retired: 'Retired: its record can go',
};

function DkimKeys({ serverId, domain, canChange, reload }: { serverId: number; domain: SendingDomain; canChange: boolean; reload: () => void }) {
  const [selector, setSelector] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [said, setSaid] = useState('');
  const errors = errorsFor(failure, ['selector']);
  const pending = domain.keys.some((k) => k.state === 'pending');
  const hint = 'Optional. Default: pl followed by the year and month, made unique.';

  const rotate = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    setSaid('');
    try {
      const d = await rotateDkim(serverId, domain.id, selector.trim() === '' ? undefined : selector.trim());
      const next = d.keys.filter((k) => k.state === 'pending').map((k) => k.selector);
      setSaid(`Rotation started: publish the new record${next.length > 1 ? 's' : ''} (${next.join(', ')}) above, then check again.`);
      setSelector('');
      reload();
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2>DKIM keys</h2>
      <div class="table-wrap">
        <table class="messages">
          <caption>DKIM keys of {domain.domain}</caption>
          <thead>
            <tr>
              <th scope="col">Selector</th>
              <th scope="col">Algorithm</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {domain.keys.map((k) => (
              <tr key={`${k.selector} ${k.algorithm}`}>
                <td data-label="Selector">
                  <code>{k.selector}</code>
                </td>
                <td data-label="Algorithm">{k.algorithm === 'rsa-sha256' ? 'RSA' : 'Ed25519'}</td>
                <td data-label="State">
                  {KEY_STATE[k.state] ?? k.state}
                  {k.retiresOn !== null && ` (until ${formatTime(k.retiresOn)})`}
                </td>
                <td data-label="Since">{formatTime(k.activatedOn ?? k.createdOn)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {canChange && (
        <form class="domains-add" onSubmit={rotate} noValidate>
          <h3>Rotate the DKIM key</h3>
          <p class="muted">
            A new key is made next to the current one. Publish its record and check again: it signs from then on, and the old key's record must stay published
            for 7 more days.
          </p>
          <TextField
            id="rotate-selector"
            label="New selector"
            hint={hint}
            error={errors.field.selector}
            value={selector}
            autocomplete="off"
            spellcheck={false}
            onValue={setSelector}
          />
          <FormError message={errors.form} />
          <button type="submit" class="secondary" disabled={busy || pending}>
            {busy ? 'Rotating…' : 'Rotate DKIM key'}
          </button>
          {pending && <p class="muted">A rotation is under way: publish the pending key's record and check again before the next one.</p>}
          <p role="status" aria-live="polite" class="domains-said">
            {said}
          </p>
        </form>
      )}
    </>
  );
}

/** A custom domain's default and (tracking) https switches. */
function CustomSettings({
  serverId,
  kind,
  domain,
  canChange,
  reload,
}: {
  serverId: number;
  kind: CustomKind;
  domain: CustomDomain;
  canChange: boolean;
  reload: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const noun = KIND_NAMES[kind].one.toLowerCase();
  // A refusal ("not verified") is about the domain as it was: a new check or change makes it stale.
  useEffect(() => setFailure(null), [domain.lastCheckedOn, domain.updatedOn]);

  const change = async (body: { isDefault?: boolean; httpsEnabled?: boolean }) => {
    setBusy(true);
    setFailure(null);
    try {
      await updateCustomDomain(serverId, kind, domain.domainId, body);
      reload();
    } catch (err) {
      setFailure((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <h2>Use</h2>
      <p>
        {domain.isDefault
          ? `This is the server's default ${noun}: its mail uses it.`
          : `Not the server's default ${noun}.${domain.verified ? '' : ' Only a verified domain can become the default.'}`}
        {kind === 'tracking' && ` Links use ${domain.httpsEnabled === false ? 'http://' : 'https://'}.`}
      </p>
      {canChange && (
        <div class="toolbar">
          <button type="button" class="secondary" disabled={busy} onClick={() => change({ isDefault: !domain.isDefault })}>
            {domain.isDefault ? 'Stop using as default' : 'Make default'}
          </button>
          {kind === 'tracking' && (
            <button type="button" class="secondary" disabled={busy} onClick={() => change({ httpsEnabled: domain.httpsEnabled === false })}>
              {domain.httpsEnabled === false ? 'Use https:// links' : 'Use http:// links'}
            </button>
          )}
        </div>
      )}
      <FormError message={failure} />
    </>
  );
}

/** Delete, in two steps: the first click asks, the second deletes. */
function DeleteDomain({ serverId, kind, id, domain }: { serverId: number; kind: DomainKind; id: number; domain: string }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const noun = KIND_NAMES[kind].one.toLowerCase();
  const consequence =
    kind === 'sending'
      ? 'Its DKIM keys are deleted and its mail is no longer signed; with verified domains required, mail from it is refused.'
      : kind === 'bounce'
        ? "If it is the default, mail goes back to Postline's own bounce domain, and bounces to it are refused from now on."
        : "If it is the default, links go back to Postline's own address, and links already sent with it stop working once its CNAME goes.";

  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);

  const remove = async () => {
    setBusy(true);
    setFailure(null);
    try {
      if (kind === 'sending') await deleteSendingDomain(serverId, id);
      else await deleteCustomDomain(serverId, kind, id);
      navigate(`/domains?${new URLSearchParams({ server: String(serverId), deleted: domain })}`);
    } catch (err) {
      setFailure((err as Error).message);
      setBusy(false);
    }
  };

  return (
    <>
      <h2>Delete</h2>
      {!asking ? (
        <button type="button" class="secondary danger" onClick={() => setAsking(true)}>
          Delete {noun}
        </button>
      ) : (
        <fieldset class="domains-confirm">
          <legend>Delete {domain}?</legend>
          <p>{consequence}</p>
          <div class="toolbar">
            <button type="button" class="danger" ref={confirmRef} disabled={busy} onClick={remove}>
              {busy ? 'Deleting…' : `Yes, delete ${domain}`}
            </button>
            <button type="button" class="secondary" disabled={busy} onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </fieldset>
      )}
      <FormError message={failure} />
    </>
  );
}
