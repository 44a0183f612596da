import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.js';
import { messageContent, messageDetail, messageAttachmentUrl, messageHtmlUrl, type DetailEvent, type MessageContent } from '../api/activity.js';
import { Link } from '../link.js';
import { formatTime, statusClass } from '../ui/format.js';
import { Tabs, type Tab } from '../ui/tabs.js';
import { useLoad } from '../ui/use-load.js';

/** 1536 -> "1.5 KB". */
function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const TRACKING = ['click', 'open', 'unsubscribe'];

function eventName(e: DetailEvent): string {
  if (e.type === 'Tracking' && e.trackingType !== null) return `Tracking (${TRACKING[e.trackingType] ?? e.trackingType})`;
  return e.type;
}

/** A heading at the level the view is placed at (h2 on its own page, h3 inside the inbox). */
function H({ level, children, id }: { level: 2 | 3; children: ComponentChildren; id?: string }) {
  return level === 2 ? <h2 id={id}>{children}</h2> : <h3 id={id}>{children}</h3>;
}

/**
 * Everything about one recipient's message: its delivery (status, attempts, last reply, MX, the
 * failure explained), its events in order, and the message itself in tabs. The HTML part is shown
 * only in a sandboxed iframe loaded from the API (which adds a CSP with `sandbox` and no script);
 * no text of the message is ever put into the panel's DOM as HTML.
 */
export function MessageView({ serverId, recipientId, level = 2 }: { serverId: number; recipientId: string; level?: 2 | 3 }) {
  // Wrapped so that "not loaded yet" (null) differs from "no such message" ({ found: null }).
  const detail = useLoad(async () => ({ found: await messageDetail(serverId, recipientId) }), [serverId, recipientId]);
  const content = useLoad(() => messageContent(serverId, recipientId), [serverId, recipientId]);

  if (detail.error !== null) {
    return (
      <p class="form-error" role="alert">
        Could not load the message: {detail.error}
      </p>
    );
  }
  if (detail.data === null) return <p aria-busy="true">Loading the message…</p>;
  const d = detail.data.found;
  if (d === null) return <p class="muted">There is no such message on this server (it may have been removed by retention).</p>;

  const lastFailed = [...d.events].reverse().find((e) => e.type === 'Failed' || e.type === 'Deferred');
  return (
    <div class="message-view">
      <dl class="facts">
        <div>
          <dt>Recipient</dt>
          <dd class="recipient">{d.to}</dd>
        </div>
        <div>
          <dt>From</dt>
          <dd>{d.from}</dd>
        </div>
        <div>
          <dt>Subject</dt>
          <dd>{content.data?.renderedSubject ?? d.subject}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <span class={statusClass(d.status)}>{d.status}</span> <span class="muted">since {formatTime(d.statusDate)}</span>
          </dd>
        </div>
        <div>
          <dt>Queued</dt>
          <dd>
            <time dateTime={d.queuedTime}>{formatTime(d.queuedTime)}</time>
          </dd>
        </div>
        <div>
          <dt>Attempts</dt>
          <dd>{d.attempts}</dd>
        </div>
        <div>
          <dt>Last SMTP reply</dt>
          <dd class="mono">{d.lastReply ?? <span class="muted">none yet</span>}</dd>
        </div>
        <div>
          <dt>MX</dt>
          <dd class="mono">{d.mx ?? <span class="muted">none yet</span>}</dd>
        </div>
        {d.mailingId !== null && (
          <div>
            <dt>Mailing ID</dt>
            <dd>{d.mailingId}</dd>
          </div>
        )}
        <div>
          <dt>Message ID</dt>
          <dd class="mono">{d.customMessageId ?? d.messageId}</dd>
        </div>
      </dl>

      {d.failureCode !== null && (
        <section class="bounce" aria-labelledby="why-failed">
          <H level={level} id="why-failed">
            Why it failed
          </H>
          <p>{d.failureDescription}</p>
          <p class="muted">
            FailureCode {d.failureCode}
            {lastFailed?.bounceStatus ? `, status ${lastFailed.bounceStatus}` : ''}
            {lastFailed?.failureType === 0
              ? ' (temporary)'
              : lastFailed?.failureType === 1
                ? ' (permanent)'
                : lastFailed?.failureType === 2
                  ? ' (suppressed)'
                  : ''}
          </p>
          {lastFailed?.explanation && <p>{lastFailed.explanation}</p>}
        </section>
      )}

      <H level={level}>Events</H>
      {d.events.length === 0 ? (
        <p class="muted">No events yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="messages events">
            <caption>Events of this message, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">SMTP reply</th>
                <th scope="col">Remote MTA</th>
                <th scope="col">Failure code</th>
                <th scope="col">Bounce status</th>
                <th scope="col">Tracking URL</th>
                <th scope="col">TLS</th>
              </tr>
            </thead>
            <tbody>
              {d.events.map((e) => (
                <tr key={e.eventId}>
                  <td data-label="Time">
                    <time dateTime={e.time}>{formatTime(e.time)}</time>
                  </td>
                  <td data-label="Event">{eventName(e)}</td>
                  <td data-label="SMTP reply" class="mono">
                    {e.smtpReply ?? ''}
                  </td>
                  <td data-label="Remote MTA" class="mono">
                    {e.remoteMta ?? ''}
                  </td>
                  <td data-label="Failure code">{e.failureCode === null ? '' : <abbr title={e.failureDescription ?? undefined}>{e.failureCode}</abbr>}</td>
                  <td data-label="Bounce status">{e.bounceStatus ?? ''}</td>
                  <td data-label="Tracking URL" class="mono">
                    {e.url ?? ''}
                  </td>
                  <td data-label="TLS">{tlsText(e.tls)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <H level={level}>Message</H>
      {!d.bodyRetained ? (
        <p class="muted">The message body is no longer kept (retention removed it), so it cannot be shown.</p>
      ) : content.error !== null ? (
        <p class="form-error" role="alert">
          Could not load the message body: {content.error}
        </p>
      ) : content.data === null ? (
        <p aria-busy="true">Loading the message body…</p>
      ) : (
        <MessageBody serverId={serverId} recipientId={recipientId} content={content.data} source={d.rendered} />
      )}
    </div>
  );
}

const TLS_POLICY_WORDS: Record<string, string> = {
  opportunistic: 'opportunistic',
  required: 'required',
  'mta-sts': 'required by MTA-STS',
  'mta-sts-testing': 'MTA-STS testing',
  dane: 'required by DANE',
};

/** A Delivered event's TLS in words, e.g. "TLSv1.3, certificate not verified (opportunistic)". */
function tlsText(tls: DetailEvent['tls']): string {
  if (tls === null) return '';
  const cert = tls.verified === null ? '' : tls.verified ? ', certificate verified' : ', certificate not verified';
  const how = tls.policy ? ` (${TLS_POLICY_WORDS[tls.policy] ?? tls.policy})` : '';
  return `${tls.version ?? 'TLS'}${cert}${how}`;
}

function MessageBody({ serverId, recipientId, content, source }: { serverId: number; recipientId: string; content: MessageContent; source: string | null }) {
  const tabs: Tab[] = [];
  if (content.hasHtml) tabs.push({ id: 'html', label: 'HTML', panel: () => <HtmlFrame serverId={serverId} recipientId={recipientId} /> });
  tabs.push({
    id: 'text',
    label: 'Text',
    panel: () => (content.text === null ? <p class="muted">This message has no text part.</p> : <pre class="message-text">{content.text}</pre>),
  });
  tabs.push({
    id: 'source',
    label: 'Source',
    panel: () => <pre class="message-source">{source ?? ''}</pre>,
  });
  tabs.push({
    id: 'headers',
    label: 'Headers',
    panel: () => (
      <div class="table-wrap">
        <table class="messages headers">
          <caption>Headers of the message</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {content.headers.map((h, i) => (
              <tr key={i}>
                <th scope="row" data-label="Name">
                  {h.name}
                </th>
                <td data-label="Value" class="mono">
                  {h.value}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    ),
  });
  tabs.push({
    id: 'attachments',
    label: `Attachments (${content.attachments.length})`,
    panel: () =>
      content.attachments.length === 0 ? (
        <p class="muted">No attachments.</p>
      ) : (
        <div class="table-wrap">
          <table class="messages attachments">
            <caption>Attachments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">
                  <span class="sr-only">Download</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {content.attachments.map((a, i) => (
                <tr key={i}>
                  <td data-label="Name">
                    {a.filename ?? <span class="muted">(no name)</span>}
                    {a.disposition === 'inline' ? <span class="muted"> (inline)</span> : null}
                  </td>
                  <td data-label="Type" class="mono">
                    {a.mimeType}
                  </td>
                  <td data-label="Size">{formatSize(a.size)}</td>
                  <td>
                    <a href={messageAttachmentUrl(serverId, recipientId, i)} download={a.filename ?? ''}>
                      Download<span class="sr-only"> {a.filename ?? `attachment ${i + 1}`}</span>
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ),
  });
  return <Tabs id={`message-${recipientId}`} label="Message parts" tabs={tabs} />;
}

/**
 * The HTML part in an iframe with an empty `sandbox` (no scripts, no same origin, no forms, no
 * popups, no top navigation), loaded by URL from the API, which adds its own CSP. Remote images
 * stay blocked until the reader asks for them.
 */
function HtmlFrame({ serverId, recipientId }: { serverId: number; recipientId: string }) {
  const [remote, setRemote] = useState(false);
  const src = messageHtmlUrl(serverId, recipientId, remote);
  return (
    <div class="html-view">
      <div class="toolbar">
        {remote ? (
          <p class="muted" role="status">
            Remote images are shown.
          </p>
        ) : (
          <>
            <p class="muted">Remote images are blocked so the sender cannot tell that the message was viewed.</p>
            <button type="button" class="secondary small" onClick={() => setRemote(true)}>
              Load remote images
            </button>
          </>
        )}
      </div>
      <iframe key={src} sandbox="" referrerpolicy="no-referrer" src={src} title="The message's HTML part" class="message-frame" />
    </div>
  );
}

export function MessageDetailPage({ query }: PageProps) {
  const serverId = Number(query.get('server'));
  const recipientId = query.get('recipient') ?? '';
  const valid = Number.isInteger(serverId) && serverId > 0 && recipientId !== '';
  return (
    <section aria-labelledby="page-title">
      <p>
        <Link href={valid ? `/activity?server=${encodeURIComponent(String(serverId))}` : '/activity'}>← Activity</Link>
      </p>
      <h1 id="page-title" tabIndex={-1}>
        Message
      </h1>
      {valid ? (
        <MessageView serverId={serverId} recipientId={recipientId} />
      ) : (
        <p class="form-error" role="alert">
          This link does not name a message: it needs a server and a recipient.
        </p>
      )}
    </section>
  );
}
