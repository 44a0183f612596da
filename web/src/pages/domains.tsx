import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import type { Server } from '../api.js';
import {
  addCustomDomain,
  addSendingDomain,
  listCustomDomains,
  listSendingDomains,
  type CustomDomain,
  type CustomKind,
  type SendingDomain,
} from '../api/domains.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { describedBy, errorsFor, Field, FormError, TextField } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { ServerPicker, useServers } from '../ui/server-picker.js';
import { useLoad } from '../ui/use-load.js';

export type DomainKind = 'sending' | CustomKind;

/** The words each kind of domain is called by, in headings, labels and buttons. */
export const KIND_NAMES: Record<DomainKind, { title: string; one: string; about: string; example: string }> = {
  sending: {
    title: 'Sending domains',
    one: 'Sending domain',
    about: 'Domains this server sends mail from, signed with their DKIM keys. Publish their DNS records, then check them.',
    example: 'example.com',
  },
  bounce: {
    title: 'Bounce domains',
    one: 'Bounce domain',
    about: 'Your own Return-Path domain: bounces come back to it, and SPF aligns with your From domain. One CNAME to Postline.',
    example: 'bounces.example.com',
  },
  tracking: {
    title: 'Tracking domains',
    one: 'Tracking domain',
    about: 'Your own host for click, open and unsubscribe links. One CNAME to Postline.',
    example: 'click.example.com',
  },
};

/** The detail page of one domain. */
export function domainHref(serverId: number, kind: DomainKind, id: number): string {
  return `/domains/domain?${new URLSearchParams({ server: String(serverId), kind, id: String(id) })}`;
}

export function DomainsPage({ session, query }: PageProps) {
  const { servers, error: serversError, selected } = useServers(query);
  const canChange = session.user.role !== 'viewer';
  const deleted = query.get('deleted');

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Domains
      </h1>
      {serversError !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {serversError}
        </p>
      )}
      {servers === null && serversError === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet; domains belong to a server.</p>}
      {selected !== null && servers !== null && (
        <>
          <div class="toolbar">
            <ServerPicker id="domains-server" servers={servers} selected={selected} path="/domains" />
          </div>
          {deleted !== null && (
            <p class="notice" role="status">
              {deleted} was deleted.
            </p>
          )}
          {!canChange && <p class="muted">You can look at the domains and their records; your role (viewer) cannot change them.</p>}
          <SendingSection server={selected} canChange={canChange} />
          <CustomSection server={selected} kind="bounce" canChange={canChange} />
          <CustomSection server={selected} kind="tracking" canChange={canChange} />
        </>
      )}
    </section>
  );
}

function VerifiedBadge({ verified, checked }: { verified: boolean; checked: string | null }) {
  if (verified) return <span class="badge badge-ok">Verified</span>;
  return <span class={checked === null ? 'badge' : 'badge badge-failed'}>{checked === null ? 'Not checked yet' : 'Not verified'}</span>;
}

function SendingSection({ server, canChange }: { server: Server; canChange: boolean }) {
  const loaded = useLoad(() => listSendingDomains(server.serverId), [server.serverId]);
  const rows = loaded.data?.data ?? null;
  return (
    <KindSection
      kind="sending"
      loading={loaded.loading}
      error={loaded.error}
      count={rows?.length ?? null}
      form={canChange ? <AddSendingForm serverId={server.serverId} /> : null}
    >
      {rows !== null && rows.length > 0 && (
        <div class="table-wrap">
          <table class="messages domains-list">
            <caption>Sending domains of {server.name}</caption>
            <thead>
              <tr>
                <th scope="col">Domain</th>
                <th scope="col">Status</th>
                <th scope="col">DKIM selectors</th>
                <th scope="col">Last checked</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d: SendingDomain) => (
                <tr key={d.id}>
                  <td data-label="Domain" class="recipient">
                    <Link href={domainHref(server.serverId, 'sending', d.id)}>{d.domain}</Link>
                  </td>
                  <td data-label="Status">
                    <VerifiedBadge verified={d.verified} checked={d.lastCheckedOn} />
                  </td>
                  <td data-label="Selectors">
                    {d.keys
                      .filter((k) => k.state !== 'retired')
                      .map((k) => `${k.selector} (${k.state})`)
                      .join(', ')}
                  </td>
                  <td data-label="Checked">{d.lastCheckedOn === null ? <span class="muted">never</span> : formatTime(d.lastCheckedOn)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </KindSection>
  );
}

function CustomSection({ server, kind, canChange }: { server: Server; kind: CustomKind; canChange: boolean }) {
  const loaded = useLoad(() => listCustomDomains(server.serverId, kind), [server.serverId, kind]);
  const rows = loaded.data?.data ?? null;
  const names = KIND_NAMES[kind];
  return (
    <KindSection
      kind={kind}
      loading={loaded.loading}
      error={loaded.error}
      count={rows?.length ?? null}
      form={canChange ? <AddCustomForm serverId={server.serverId} kind={kind} /> : null}
    >
      {rows !== null && rows.length > 0 && (
        <div class="table-wrap">
          <table class="messages domains-list">
            <caption>
              {names.title} of {server.name}
            </caption>
            <thead>
              <tr>
                <th scope="col">Domain</th>
                <th scope="col">Status</th>
                <th scope="col">Default</th>
                <th scope="col">Last checked</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d: CustomDomain) => (
                <tr key={d.domainId}>
                  <td data-label="Domain" class="recipient">
                    <Link href={domainHref(server.serverId, kind, d.domainId)}>{d.domain}</Link>
                  </td>
                  <td data-label="Status">
                    <VerifiedBadge verified={d.verified} checked={d.lastCheckedOn} />
                  </td>
                  <td data-label="Default">{d.isDefault ? <span class="badge badge-ok">Default</span> : <span class="muted">no</span>}</td>
                  <td data-label="Checked">{d.lastCheckedOn === null ? <span class="muted">never</span> : formatTime(d.lastCheckedOn)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </KindSection>
  );
}

/** One kind's heading, explanation, loading / error / empty states, its table (the children) and its add form. */
function KindSection({
  kind,
  loading,
  error,
  count,
  form,
  children,
}: {
  kind: DomainKind;
  loading: boolean;
  error: string | null;
  count: number | null;
  form: ComponentChildren;
  children: ComponentChildren;
}) {
  const names = KIND_NAMES[kind];
  const headingId = `domains-${kind}-title`;
  return (
    <section class="domains-kind" aria-labelledby={headingId}>
      <h2 id={headingId}>{names.title}</h2>
      <p class="muted">{names.about}</p>
      <p class="muted" aria-live="polite">
        {loading ? `Loading ${names.title.toLowerCase()}…` : count === 0 ? `No ${names.title.toLowerCase()} yet.` : ''}
      </p>
      {error !== null && (
        <p class="form-error" role="alert">
          Could not load the {names.title.toLowerCase()}: {error}
        </p>
      )}
      {children}
      {form}
    </section>
  );
}

function AddSendingForm({ serverId }: { serverId: number }) {
  const [domain, setDomain] = useState('');
  const [selector, setSelector] = useState('');
  const [ed25519, setEd25519] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const errors = errorsFor(failure, ['domain', 'selector']);
  const selectorHint = 'Optional. Default: pl followed by the year and month.';

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const d = await addSendingDomain(serverId, { domain: domain.trim(), ...(selector.trim() !== '' ? { selector: selector.trim() } : {}), ed25519 });
      navigate(domainHref(serverId, 'sending', d.id));
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="domains-add" onSubmit={submit} noValidate>
      <TextField
        id="add-sending-domain"
        label="Sending domain"
        error={errors.field.domain}
        value={domain}
        placeholder={KIND_NAMES.sending.example}
        autocomplete="off"
        spellcheck={false}
        aria-required="true"
        onValue={setDomain}
      />
      <TextField
        id="add-sending-selector"
        label="DKIM selector"
        hint={selectorHint}
        error={errors.field.selector}
        value={selector}
        autocomplete="off"
        spellcheck={false}
        onValue={setSelector}
      />
      <div class="field check">
        <input id="add-sending-ed25519" type="checkbox" checked={ed25519} onChange={(e) => setEd25519(e.currentTarget.checked)} />
        <label for="add-sending-ed25519">Also an Ed25519 key (signs with both)</label>
      </div>
      <FormError message={errors.form} />
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add sending domain'}
      </button>
    </form>
  );
}

function AddCustomForm({ serverId, kind }: { serverId: number; kind: CustomKind }) {
  const names = KIND_NAMES[kind];
  const [domain, setDomain] = useState('');
  const [https, setHttps] = useState(true);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const errors = errorsFor(failure, kind === 'tracking' ? ['domain', 'httpsEnabled'] : ['domain']);
  const id = `add-${kind}-domain`;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const d = await addCustomDomain(serverId, kind, { domain: domain.trim(), ...(kind === 'tracking' ? { httpsEnabled: https } : {}) });
      navigate(domainHref(serverId, kind, d.domainId));
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="domains-add" onSubmit={submit} noValidate>
      <Field id={id} label={names.one} error={errors.field.domain}>
        <input
          id={id}
          value={domain}
          onInput={(e) => setDomain(e.currentTarget.value)}
          placeholder={names.example}
          autocomplete="off"
          spellcheck={false}
          aria-required="true"
          aria-invalid={errors.field.domain ? 'true' : undefined}
          aria-describedby={describedBy(id, errors.field.domain)}
        />
      </Field>
      {kind === 'tracking' && (
        <div class="field check">
          <input id="add-tracking-https" type="checkbox" checked={https} onChange={(e) => setHttps(e.currentTarget.checked)} />
          <label for="add-tracking-https">Links use https:// (the host needs a certificate)</label>
        </div>
      )}
      <FormError message={errors.form} />
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : `Add ${names.one.toLowerCase()}`}
      </button>
    </form>
  );
}
