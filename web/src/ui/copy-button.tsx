import { useState } from 'preact/hooks';

/**
 * Copies a value (a DNS record, a new API key) to the clipboard and says so. Where the clipboard
 * is not available (an http:// origin other than localhost), it selects the text instead so
 * Ctrl+C works, and says that.
 */
export function CopyButton({ value, label = 'Copy', what }: { value: string; label?: string; what?: string }) {
  const [said, setSaid] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      setSaid('Copied');
    } catch {
      setSaid('Select the text and press Ctrl+C');
    }
    setTimeout(() => setSaid(''), 4000);
  };
  return (
    <span class="copy">
      <button type="button" class="secondary small" onClick={copy} aria-label={what ? `${label} ${what}` : label}>
        {label}
      </button>
      <span class="copy-said" role="status" aria-live="polite">
        {said}
      </span>
    </span>
  );
}
