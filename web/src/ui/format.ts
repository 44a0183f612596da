/** "2025-11-04T10:00:02Z" in the reader's own locale and zone. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** The CSS class of a status badge: one colour per kind of outcome. */
export function statusClass(status: string): string {
  switch (status) {
    case 'Delivered':
      return 'badge badge-ok';
    case 'Failed':
    case 'Suppressed':
      return 'badge badge-failed';
    case 'Deferred':
      return 'badge badge-warn';
    default:
      return 'badge';
  }
}

/** 1234567 -> "1,234,567" in the reader's locale. */
export function formatCount(n: number): string {
  return n.toLocaleString();
}
