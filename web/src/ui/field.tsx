import type { ComponentChildren, JSX } from 'preact';
import { ApiFailure } from '../api.js';

/**
 * A labelled control with its hint and its error underneath. The control itself is the child;
 * give it `id={id}` and `aria-describedby={describedBy(id, error, hint)}` so a screen reader reads
 * the hint and the error with it.
 */
export function Field({
  id,
  label,
  hint,
  error,
  inline,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string | null;
  inline?: boolean;
  children: ComponentChildren;
}) {
  return (
    <div class={inline ? 'field inline' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint !== undefined && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error != null && error !== '' && (
        <p class="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** The ids a control's aria-describedby should name: its hint and its error, when shown. */
export function describedBy(id: string, error?: string | null, hint?: string): string | undefined {
  const ids = [hint !== undefined ? `${id}-hint` : null, error ? `${id}-error` : null].filter((x) => x !== null);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/**
 * Splits a failed call into the message for one field and the message for the form: the server
 * names the field it refused (`error.field`, e.g. "name" or "emailAddresses[3]"), and the form
 * shows it next to that control; anything else goes above the buttons.
 */
export function errorsFor(err: unknown, fields: readonly string[]): { field: Record<string, string>; form: string | null } {
  if (err === null || err === undefined) return { field: {}, form: null };
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ApiFailure && err.field !== undefined) {
    const top = err.field.replace(/[[.].*$/, '');
    const hit = fields.find((f) => f === err.field || f === top);
    if (hit !== undefined) return { field: { [hit]: message }, form: null };
  }
  return { field: {}, form: message };
}

/** A form-level failure, announced. */
export function FormError({ message }: { message: string | null }) {
  if (message === null) return null;
  return (
    <p class="form-error" role="alert">
      {message}
    </p>
  );
}

/**
 * The common case of Field: a one-line text input (any `type`) whose value is a string state.
 * Wires id, hint and error to the input (aria-describedby, aria-invalid) so that each form does
 * not repeat it.
 */
export function TextField({
  id,
  label,
  hint,
  error,
  inline,
  value,
  onValue,
  ...input
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string | null;
  inline?: boolean;
  value: string;
  onValue: (value: string) => void;
} & Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id' | 'value' | 'onInput' | 'label'>) {
  return (
    <Field id={id} label={label} hint={hint} error={error} inline={inline}>
      <input
        {...input}
        id={id}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(id, error, hint)}
      />
    </Field>
  );
}
