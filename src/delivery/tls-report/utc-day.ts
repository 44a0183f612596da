/** RFC 8460 §4.1: a report covers one full UTC day. Days are kept and compared as 'YYYY-MM-DD' text, which sorts as time does. */

export const DAY_MS = 86_400_000;

/** The UTC day of an epoch-millisecond time. */
export const utcDayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The first millisecond of a UTC day. */
export const dayStartMs = (day: string): number => Date.parse(`${day}T00:00:00Z`);
