import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import {
  createRoute,
  deleteRoute,
  listRoutePosts,
  listRoutes,
  replayRoute,
  rotateRouteSecret,
  updateRoute,
  type InboundPost,
  type InboundRoute,
  type InboundRouteWithSecret,
} from '../api/webhooks.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { errorsFor, FormError, TextField } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { ServerPicker, useServers } from '../ui/server-picker.js';
import { useLoad } from '../ui/use-load.js';
import { ConfirmButton, countLine, ReplayForm, SecretOnce } from './webhooks-parts.js';

const POST_STATUS: Record<InboundPost['status'], { label: string; cls: string }> = {
  pending: { label: 'Pending', cls: 'badge' },
  failed: { label: 'Retrying', cls: 'badge badge-warn' },
  delivered: { label: 'Delivered', cls: 'badge badge-ok' },
  gave_up: { label: 'Gave up', cls: 'badge badge-failed' },
};

/** "Domain or address" and "URL": a new route, checked and handshaken by the server. */
function RouteForm({ onSubmit }: { onSubmit: (v: { match: string; url: string }) => Promise<void> }) {
  const [match, setMatch] = useState('');
  const [url, setUrl] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errs = errorsFor(error, ['match', 'url']);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit({ match: match.trim(), url: url.trim() });
      setMatch('');
      setUrl('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card webhook-form" onSubmit={submit} noValidate>
      <TextField
        id="route-match"
        label="Domain or address"
        hint="example.com routes the whole domain; support@example.com one address."
        error={errs.field.match}
        type="text"
        autoComplete="off"
        value={match}
        onValue={setMatch}
      />
      <TextField
        id="route-url"
        label="URL"
        hint="Each message is POSTed here as JSON. It must answer 2xx to a test request first."
        error={errs.field.url}
        type="url"
        inputMode="url"
        autoComplete="off"
        value={url}
        onValue={setUrl}
      />
      <FormError message={errs.form} />
      <button type="submit" disabled={busy}>
        {busy ? 'Checking the endpoint…' : 'Add route'}
      </button>
    </form>
  );
}

/** One route's actions, its recent messages and replay. */
function RouteDetail({ serverId, route, canChange, onChanged }: { serverId: number; route: InboundRoute; canChange: boolean; onChanged: () => void }) {
  const posts = useLoad(() => listRoutePosts(serverId, route.id), [serverId, route.id]);
  const [rotated, setRotated] = useState<InboundRouteWithSecret | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const rows = posts.data?.data ?? null;
  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await what();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="route-detail" aria-labelledby="route-title">
      <h2 id="route-title">Route {route.match}</h2>
      <p class="url">
        To <span class="url">{route.url}</span>
      </p>
      {canChange && (
        <div class="toolbar actions">
          {route.enabled ? (
            <ConfirmButton
              label="Disable route"
              question="Refuse mail for this route and hold its waiting messages?"
              confirmLabel="Yes, disable"
              disabled={busy}
              onConfirm={() =>
                act(async () => {
                  await updateRoute(serverId, route.id, { enabled: false });
                  onChanged();
                })
              }
            />
          ) : (
            <button
              type="button"
              class="secondary"
              disabled={busy}
              onClick={() =>
                act(async () => {
                  await updateRoute(serverId, route.id, { enabled: true });
                  onChanged();
                })
              }
            >
              Enable route
            </button>
          )}
          <ConfirmButton
            label="Rotate signing secret"
            question="Make a new signing secret? The current one keeps signing for 24 hours."
            confirmLabel="Yes, rotate"
            disabled={busy}
            onConfirm={() => act(async () => setRotated(await rotateRouteSecret(serverId, route.id)))}
          />
          <ConfirmButton
            label="Delete route"
            question="Delete this route with its messages not yet posted and its log?"
            confirmLabel="Yes, delete"
            disabled={busy}
            onConfirm={() =>
              act(async () => {
                await deleteRoute(serverId, route.id);
                navigate(`/webhooks/inbound?server=${serverId}`);
                onChanged();
              })
            }
          />
        </div>
      )}
      <FormError message={error} />
      {rotated !== null && <SecretOnce secret={rotated.signingSecret} previousUntil={rotated.previousSecretExpiresOn} onDone={() => setRotated(null)} />}

      <h3>Recent messages</h3>
      <div class="toolbar">
        <button type="button" class="secondary" onClick={posts.reload} disabled={posts.loading}>
          Refresh messages
        </button>
        <span class="muted" aria-live="polite">
          {posts.loading
            ? 'Loading messages…'
            : rows === null
              ? ''
              : rows.length === 0
                ? 'No messages received for this route yet.'
                : countLine(rows.length, posts.data?.total ?? 0, 'message')}
        </span>
      </div>
      {posts.error !== null && (
        <p class="form-error" role="alert">
          Could not load the messages: {posts.error}
        </p>
      )}
      {rows !== null && rows.length > 0 && (
        <div class="table-wrap">
          <table class="messages">
            <caption>Messages received for {route.match}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Recipient</th>
                <th scope="col">From</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id}>
                  <td data-label="Received">
                    <time dateTime={p.receivedOn}>{formatTime(p.receivedOn)}</time>
                  </td>
                  <td data-label="Recipient" class="recipient">
                    {p.rcptTo}
                  </td>
                  <td data-label="From" class="recipient">
                    {p.mailFrom === '' ? <span class="muted">(none)</span> : p.mailFrom}
                  </td>
                  <td data-label="Status">
                    <span class={POST_STATUS[p.status].cls}>{POST_STATUS[p.status].label}</span>
                  </td>
                  <td data-label="Attempts">{p.attempts}</td>
                  <td data-label="Last answer" class="response">
                    {p.lastStatus !== null ? `HTTP ${p.lastStatus}` : ''}
                    {p.lastError ? ` ${p.lastError}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canChange && (
        <>
          <h3>Replay messages</h3>
          <p class="muted">Post the delivered or given-up messages received in a time range again.</p>
          <ReplayForm idPrefix="route-replay" what="messages" onReplay={(range) => replayRoute(serverId, route.id, range)} />
        </>
      )}
    </section>
  );
}

/** /webhooks/inbound?server=S[&route=R]: the server's inbound routes; one route's messages when chosen. */
export function InboundRoutesPage({ session, query }: PageProps) {
  const { servers, error: serversError, selected } = useServers(query);
  const serverId = selected?.serverId ?? null;
  const routes = useLoad(() => (serverId === null ? null : listRoutes(serverId)), [serverId]);
  const [created, setCreated] = useState<InboundRouteWithSecret | null>(null);
  const canChange = session.user.role !== 'viewer';
  const rows = routes.data?.data ?? null;
  const chosen = rows?.find((r) => r.id === Number(query.get('route'))) ?? null;

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Inbound routes
      </h1>
      {serversError !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {serversError}
        </p>
      )}
      {servers === null && serversError === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet.</p>}
      {selected !== null && servers !== null && (
        <>
          <div class="toolbar">
            <ServerPicker id="inbound-server" servers={servers} selected={selected} path="/webhooks/inbound" />
            <button type="button" class="secondary" onClick={routes.reload} disabled={routes.loading}>
              Refresh
            </button>
            <Link href={`/webhooks?server=${selected.serverId}`}>Event webhooks</Link>
          </div>
          <p class="muted" aria-live="polite">
            {routes.loading
              ? 'Loading routes…'
              : rows === null
                ? ''
                : rows.length === 0
                  ? 'No inbound routes yet: mail to this server is not accepted.'
                  : `${rows.length} ${rows.length === 1 ? 'route' : 'routes'}.`}
          </p>
          {routes.error !== null && (
            <p class="form-error" role="alert">
              Could not load the routes: {routes.error}
            </p>
          )}
          {rows !== null && rows.length > 0 && (
            <div class="table-wrap">
              <table class="messages">
                <caption>Inbound routes of {selected.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Domain or address</th>
                    <th scope="col">URL</th>
                    <th scope="col">Status</th>
                    <th scope="col">Messages</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.id}>
                      <td data-label="Match" class="recipient">
                        {r.match} <span class="muted">({r.kind})</span>
                      </td>
                      <td data-label="URL" class="url">
                        {r.url}
                      </td>
                      <td data-label="Status">
                        <span class={r.enabled ? 'badge badge-ok' : 'badge badge-failed'}>{r.enabled ? 'Enabled' : 'Disabled'}</span>
                      </td>
                      <td data-label="Messages">
                        <Link
                          href={`/webhooks/inbound?server=${selected.serverId}&route=${r.id}`}
                          aria-current={chosen?.id === r.id ? 'true' : undefined}
                          aria-label={`Show messages of ${r.match}`}
                        >
                          Show messages
                        </Link>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {created !== null && (
            <div class="created">
              <p role="status">Route added for {created.match}.</p>
              <SecretOnce secret={created.signingSecret} onDone={() => setCreated(null)} />
            </div>
          )}
          {chosen !== null && <RouteDetail key={chosen.id} serverId={selected.serverId} route={chosen} canChange={canChange} onChanged={routes.reload} />}
          {canChange && (
            <>
              <h2>Add a route</h2>
              <RouteForm
                onSubmit={async (v) => {
                  setCreated(null);
                  setCreated(await createRoute(selected.serverId, v));
                  routes.reload();
                }}
              />
            </>
          )}
        </>
      )}
    </section>
  );
}
