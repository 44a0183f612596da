import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import {
  deleteEndpoint,
  getEndpoint,
  listAttempts,
  replayEndpoint,
  rotateEndpointSecret,
  testEndpoint,
  updateEndpoint,
  type Attempt,
  type EndpointWithSecret,
} from '../api/webhooks.js';
import { Link } from '../link.js';
import { navigate } from '../router.js';
import { CopyButton } from '../ui/copy-button.js';
import { FormError } from '../ui/field.js';
import { formatTime } from '../ui/format.js';
import { useLoad } from '../ui/use-load.js';
import { EndpointStatus } from './webhooks.js';
import { ConfirmButton, countLine, EndpointForm, eventsLabel, ReplayForm, SecretOnce } from './webhooks-parts.js';

/** What the receiver answered, short: the error (no answer) or the start of its body. */
function excerpt(a: Attempt): string {
  const text = a.response ?? a.error ?? '';
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Attempts (or a test's outcome) as a table: time, event, HTTP status, what came back, duration. */
function AttemptsTable({ caption, rows }: { caption: string; rows: Attempt[] }) {
  return (
    <div class="table-wrap">
      <table class="messages attempts">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">HTTP status</th>
            <th scope="col">Response</th>
            <th scope="col">Duration</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a, i) => (
            <tr key={`${a.eventId}-${a.attemptedOn}-${i}`}>
              <td data-label="Time">
                <time dateTime={a.attemptedOn}>{formatTime(a.attemptedOn)}</time>
              </td>
              <td data-label="Event">{a.type}</td>
              <td data-label="HTTP status">
                <span class={a.ok ? 'badge badge-ok' : 'badge badge-failed'}>{a.status === null ? 'no answer' : a.status}</span>
              </td>
              <td data-label="Response" class="response">
                {excerpt(a)}
              </td>
              <td data-label="Duration">{a.durationMs} ms</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** /webhooks/endpoint?server=S&id=E: one endpoint, its actions, its delivery log and replay. */
export function WebhookEndpointPage({ session, query }: PageProps) {
  const serverId = Number(query.get('server'));
  const id = Number(query.get('id'));
  const valid = Number.isInteger(serverId) && serverId > 0 && Number.isInteger(id) && id > 0;
  const endpoint = useLoad(() => (valid ? getEndpoint(serverId, id) : null), [serverId, id]);
  const attempts = useLoad(() => (valid ? listAttempts(serverId, id) : null), [serverId, id]);
  const [test, setTest] = useState<Attempt | null>(null);
  const [rotated, setRotated] = useState<EndpointWithSecret | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState('');
  const canChange = session.user.role !== 'viewer';
  const e = endpoint.data;
  const back = `/webhooks?server=${serverId}`;

  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setActionError(null);
    setSaved('');
    try {
      await what();
    } catch (err) {
      setActionError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Webhook endpoint
      </h1>
      <p>
        <Link href={back}>All endpoints of this server</Link>
      </p>
      {!valid && (
        <p class="form-error" role="alert">
          This address names no endpoint.
        </p>
      )}
      {endpoint.loading && e === null && <p aria-busy="true">Loading the endpoint…</p>}
      {endpoint.error !== null && (
        <p class="form-error" role="alert">
          Could not load the endpoint: {endpoint.error}
        </p>
      )}
      {e !== null && (
        <>
          <dl class="facts">
            <dt>URL</dt>
            <dd class="url">{e.url}</dd>
            <dt>Events</dt>
            <dd>{eventsLabel(e.eventTypes)}</dd>
            <dt>Status</dt>
            <dd class="status">
              <EndpointStatus e={e} />
            </dd>
            <dt>Secret key</dt>
            <dd>
              <code class="wrap">{e.secretKey}</code> <CopyButton value={e.secretKey} what="the secret key" />
            </dd>
            <dt>Validated</dt>
            <dd>{e.validatedOn === null ? 'never' : formatTime(e.validatedOn)}</dd>
            <dt>Created</dt>
            <dd>{formatTime(e.createdOn)}</dd>
          </dl>

          {canChange && (
            <div class="toolbar actions">
              <button type="button" disabled={busy} onClick={() => act(async () => setTest(await testEndpoint(serverId, id)))}>
                Send test event
              </button>
              {e.enabled ? (
                <ConfirmButton
                  label="Disable"
                  question="Stop sending events to this endpoint?"
                  confirmLabel="Yes, disable"
                  disabled={busy}
                  onConfirm={() =>
                    act(async () => {
                      await updateEndpoint(serverId, id, { enabled: false });
                      endpoint.reload();
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
                      await updateEndpoint(serverId, id, { enabled: true });
                      setSaved('Enabled. Events that happened while it was disabled were not queued: replay them below.');
                      endpoint.reload();
                    })
                  }
                >
                  Enable
                </button>
              )}
              <ConfirmButton
                label="Rotate signing secret"
                question="Make a new signing secret? The current one keeps signing for 24 hours."
                confirmLabel="Yes, rotate"
                disabled={busy}
                onConfirm={() => act(async () => setRotated(await rotateEndpointSecret(serverId, id)))}
              />
              <ConfirmButton
                label="Delete endpoint"
                question="Delete this endpoint with its waiting events and delivery log?"
                confirmLabel="Yes, delete"
                disabled={busy}
                onConfirm={() =>
                  act(async () => {
                    await deleteEndpoint(serverId, id);
                    navigate(back);
                  })
                }
              />
            </div>
          )}
          <FormError message={actionError} />
          <p class="muted" role="status">
            {saved}
          </p>
          {rotated !== null && <SecretOnce secret={rotated.signingSecret} previousUntil={rotated.previousSecretExpiresOn} onDone={() => setRotated(null)} />}
          {test !== null && (
            <div class="test-result">
              <p role="status">
                {test.ok
                  ? `The test event was accepted: HTTP ${test.status} in ${test.durationMs} ms.`
                  : `The test event failed: ${test.error ?? `HTTP ${test.status}`}.`}
              </p>
              <AttemptsTable caption="Test event" rows={[test]} />
            </div>
          )}

          <h2>Recent attempts</h2>
          <div class="toolbar">
            <button type="button" class="secondary" onClick={attempts.reload} disabled={attempts.loading}>
              Refresh attempts
            </button>
            <span class="muted" aria-live="polite">
              {attempts.loading
                ? 'Loading attempts…'
                : attempts.data === null
                  ? ''
                  : attempts.data.total === 0
                    ? 'No attempts yet.'
                    : countLine(attempts.data.data.length, attempts.data.total, 'attempt')}
            </span>
          </div>
          {attempts.error !== null && (
            <p class="form-error" role="alert">
              Could not load the attempts: {attempts.error}
            </p>
          )}
          {attempts.data !== null && attempts.data.data.length > 0 && <AttemptsTable caption="Delivery attempts, newest first" rows={attempts.data.data} />}

          {canChange && (
            <>
              <h2>Replay events</h2>
              <p class="muted">Send this server's events of a time range (of the types this endpoint wants) to it again.</p>
              <ReplayForm idPrefix="replay" what="events" onReplay={(range) => replayEndpoint(serverId, id, range)} />

              <h2>Edit</h2>
              <EndpointForm
                key={`${e.id}-${e.lastUpdate}`}
                idPrefix="edit-endpoint"
                initial={{ url: e.url, eventTypes: e.eventTypes }}
                submitLabel="Save changes"
                onSubmit={async (v) => {
                  setSaved('');
                  await updateEndpoint(serverId, id, v);
                  setSaved('Saved.');
                  endpoint.reload();
                }}
              />
            </>
          )}
        </>
      )}
    </section>
  );
}
