/**
 * Pieces the Webhooks pages share: the endpoint form (URL and event-type checkboxes), the
 * two-step confirmation for dangerous actions, a secret shown once, and the replay form.
 */
import { useId, useRef, useState } from 'preact/hooks';
import { CopyButton } from '../ui/copy-button.js';
import { describedBy, errorsFor, Field, FormError } from '../ui/field.js';
import { formatCount, formatTime } from '../ui/format.js';
import { EVENT_TYPES, type Replayed } from '../api/webhooks.js';

/** "3 attempts." when all are shown, else "The 50 most recent of 120 attempts." */
export function countLine(shown: number, total: number, noun: string): string {
  const plural = (n: number) => `${formatCount(n)} ${n === 1 ? noun : `${noun}s`}`;
  return shown >= total ? `${plural(total)}.` : `The ${formatCount(shown)} most recent of ${plural(total)}.`;
}

/** "All events" for an empty list (the API's "every type"), else the names. */
export function eventsLabel(types: readonly string[]): string {
  return types.length === 0 ? 'All events' : types.join(', ');
}

/**
 * The endpoint's URL and the event types it wants. Validation is the server's (the URL guard, the
 * handshake): the form is `noValidate` so every refusal comes back as a message next to its field.
 */
export function EndpointForm({
  idPrefix,
  initial,
  submitLabel,
  onSubmit,
}: {
  idPrefix: string;
  initial?: { url: string; eventTypes: string[] };
  submitLabel: string;
  onSubmit: (v: { url: string; eventTypes: string[] }) => Promise<void>;
}) {
  const [url, setUrl] = useState(initial?.url ?? '');
  const [types, setTypes] = useState<string[]>(initial?.eventTypes ?? []);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const errs = errorsFor(error, ['url', 'eventTypes']);
  const urlId = `${idPrefix}-url`;
  const typesHint = `${idPrefix}-types-hint`;
  const typesError = `${idPrefix}-types-error`;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Kept in the order of the list, whatever order they were ticked in.
      await onSubmit({ url: url.trim(), eventTypes: EVENT_TYPES.filter((t) => types.includes(t)) });
      if (initial === undefined) {
        setUrl('');
        setTypes([]);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card webhook-form" onSubmit={submit} noValidate>
      <Field id={urlId} label="URL" hint="Where Postline POSTs the events (https://…). It must answer 2xx to a test request first." error={errs.field.url}>
        <input
          id={urlId}
          type="url"
          inputMode="url"
          autoComplete="off"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
          aria-describedby={describedBy(urlId, errs.field.url, 'hint')}
          aria-invalid={errs.field.url ? 'true' : undefined}
          required
        />
      </Field>
      <fieldset class="event-types" aria-describedby={[typesHint, errs.field.eventTypes ? typesError : null].filter(Boolean).join(' ')}>
        <legend>Event types</legend>
        <p class="hint" id={typesHint}>
          None ticked: every type.
        </p>
        <div class="checks">
          {EVENT_TYPES.map((t) => (
            <label key={t} class="check">
              <input
                type="checkbox"
                checked={types.includes(t)}
                onChange={(e) => setTypes(e.currentTarget.checked ? [...types, t] : types.filter((x) => x !== t))}
              />
              {t}
            </label>
          ))}
        </div>
        {errs.field.eventTypes && (
          <p class="field-error" id={typesError} role="alert">
            {errs.field.eventTypes}
          </p>
        )}
      </fieldset>
      <FormError message={errs.form} />
      <button type="submit" disabled={busy}>
        {busy ? 'Checking the endpoint…' : submitLabel}
      </button>
    </form>
  );
}

/**
 * A dangerous action asks first: the first click shows the question with "Yes" and "Cancel"
 * (focus moves to "Cancel", so a second Enter does not confirm by accident).
 */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  disabled,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => Promise<void> | void;
  disabled?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const cancel = useRef<HTMLButtonElement>(null);
  const questionId = useId();
  if (!asking) {
    return (
      <button
        type="button"
        class="secondary"
        disabled={disabled}
        onClick={() => {
          setAsking(true);
          setTimeout(() => cancel.current?.focus(), 0);
        }}
      >
        {label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <span class="confirm-question" id={questionId}>
        {question}
      </span>
      <button
        type="button"
        class="danger"
        aria-describedby={questionId}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" class="secondary" ref={cancel} aria-describedby={questionId} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** A new signing secret: shown this once (the API never shows it again), with a copy button. */
export function SecretOnce({ secret, previousUntil, onDone }: { secret: string; previousUntil?: string | null; onDone: () => void }) {
  return (
    <div class="secret-once" role="status">
      <p>
        <strong>New signing secret.</strong> Copy it now: it is shown only this once.
      </p>
      <p class="secret-line">
        <code class="wrap">{secret}</code> <CopyButton value={secret} what="the signing secret" />
      </p>
      {previousUntil && <p class="muted">The previous secret also signs until {formatTime(previousUntil)}.</p>}
      <button type="button" class="secondary small" onClick={onDone}>
        I have saved it
      </button>
    </div>
  );
}

/** `<input type="datetime-local">`'s value (local time) for an epoch time. */
export function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** A datetime-local value as ISO 8601 (UTC); '' or nonsense is passed on for the server to refuse next to the field. */
function isoOf(local: string): string {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

/** "From" and "To" and a button: queues a time range again and says how many were queued. */
export function ReplayForm({
  idPrefix,
  what,
  onReplay,
}: {
  idPrefix: string;
  what: string;
  onReplay: (range: { from: string; to: string }) => Promise<Replayed>;
}) {
  const [from, setFrom] = useState(() => localInput(Date.now() - 3_600_000));
  const [to, setTo] = useState(() => localInput(Date.now() + 60_000));
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Replayed | null>(null);
  const [busy, setBusy] = useState(false);
  const errs = errorsFor(error, ['from', 'to']);
  const fromId = `${idPrefix}-from`;
  const toId = `${idPrefix}-to`;

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await onReplay({ from: isoOf(from), to: isoOf(to) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card replay-form" onSubmit={submit} noValidate>
      <div class="range">
        <Field id={fromId} label="From" error={errs.field.from}>
          <input
            id={fromId}
            type="datetime-local"
            value={from}
            onInput={(e) => setFrom(e.currentTarget.value)}
            aria-describedby={describedBy(fromId, errs.field.from)}
            aria-invalid={errs.field.from ? 'true' : undefined}
          />
        </Field>
        <Field id={toId} label="To" hint="Up to 7 days; the end is not included." error={errs.field.to}>
          <input
            id={toId}
            type="datetime-local"
            value={to}
            onInput={(e) => setTo(e.currentTarget.value)}
            aria-describedby={describedBy(toId, errs.field.to, 'hint')}
            aria-invalid={errs.field.to ? 'true' : undefined}
          />
        </Field>
      </div>
      <FormError message={errs.form} />
      <button type="submit" disabled={busy}>
        {busy ? 'Queuing…' : `Replay ${what}`}
      </button>
      <p class="muted" role="status">
        {done && `${formatCount(done.queued)} ${done.queued === 1 ? what.replace(/s$/, '') : what} queued to be sent again.`}
      </p>
    </form>
  );
}
