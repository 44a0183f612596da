import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { createEndpoint, listEndpoints, type Endpoint, type EndpointWithSecret } from '../api/webhooks.js';
import { Link } from '../link.js';
import { formatTime } from '../ui/format.js';
import { ServerPicker, useServers } from '../ui/server-picker.js';
import { useLoad } from '../ui/use-load.js';
import { EndpointForm, eventsLabel, SecretOnce } from './webhooks-parts.js';

/** An endpoint's state in a word, and why when it is not simply on. */
export function EndpointStatus({ e }: { e: Endpoint }) {
  if (!e.enabled) {
    return (
      <>
        <span class="badge badge-failed">Disabled</span>
        {e.disabledReason && <span class="reason">{e.disabledReason}</span>}
      </>
    );
  }
  if (e.failingSince !== null) {
    return (
      <>
        <span class="badge badge-warn">Failing</span>
        <span class="reason">every attempt has failed since {formatTime(e.failingSince)}</span>
      </>
    );
  }
  return <span class="badge badge-ok">Enabled</span>;
}

/** /webhooks: the chosen server's event endpoints, and a form to add one. */
export function WebhooksPage({ session, query }: PageProps) {
  const { servers, error: serversError, selected } = useServers(query);
  const serverId = selected?.serverId ?? null;
  const endpoints = useLoad(() => (serverId === null ? null : listEndpoints(serverId)), [serverId]);
  const [created, setCreated] = useState<EndpointWithSecret | null>(null);
  const canChange = session.user.role !== 'viewer';
  const rows = endpoints.data?.data ?? null;

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Webhooks
      </h1>
      {serversError !== null && (
        <p class="form-error" role="alert">
          Could not load the servers: {serversError}
        </p>
      )}
      {servers === null && serversError === null && <p aria-busy="true">Loading servers…</p>}
      {servers !== null && servers.length === 0 && <p class="muted">This account has no servers yet, so there are no webhooks to show.</p>}
      {selected !== null && servers !== null && (
        <>
          <div class="toolbar">
            <ServerPicker id="webhooks-server" servers={servers} selected={selected} path="/webhooks" />
            <button type="button" class="secondary" onClick={endpoints.reload} disabled={endpoints.loading}>
              Refresh
            </button>
            <Link href={`/webhooks/inbound?server=${selected.serverId}`}>Inbound routes</Link>
          </div>
          <h2>Event endpoints</h2>
          <p class="muted" aria-live="polite">
            {endpoints.loading
              ? 'Loading endpoints…'
              : rows === null
                ? ''
                : rows.length === 0
                  ? 'No endpoints yet: events of this server are not sent anywhere.'
                  : `${rows.length} ${rows.length === 1 ? 'endpoint' : 'endpoints'}. Open one to test it, see its attempts or replay events.`}
          </p>
          {endpoints.error !== null && (
            <p class="form-error" role="alert">
              Could not load the endpoints: {endpoints.error}
            </p>
          )}
          {rows !== null && rows.length > 0 && (
            <div class="table-wrap">
              <table class="messages webhooks">
                <caption>Webhook endpoints of {selected.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">URL</th>
                    <th scope="col">Events</th>
                    <th scope="col">Status</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((e) => (
                    <tr key={e.id}>
                      <td data-label="URL" class="url">
                        <Link href={`/webhooks/endpoint?server=${selected.serverId}&id=${e.id}`}>{e.url}</Link>
                      </td>
                      <td data-label="Events">{eventsLabel(e.eventTypes)}</td>
                      <td data-label="Status" class="status">
                        <EndpointStatus e={e} />
                      </td>
                      <td data-label="Created">
                        <time dateTime={e.createdOn}>{formatTime(e.createdOn)}</time>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {created !== null && (
            <div class="created">
              <p role="status">
                Endpoint added: <Link href={`/webhooks/endpoint?server=${selected.serverId}&id=${created.id}`}>{created.url}</Link>
              </p>
              <SecretOnce secret={created.signingSecret} onDone={() => setCreated(null)} />
            </div>
          )}
          {canChange && (
            <>
              <h2>Add an endpoint</h2>
              <EndpointForm
                idPrefix="new-endpoint"
                submitLabel="Add endpoint"
                onSubmit={async (v) => {
                  setCreated(null);
                  setCreated(await createEndpoint(selected.serverId, v));
                  endpoints.reload();
                }}
              />
            </>
          )}
        </>
      )}
    </section>
  );
}
