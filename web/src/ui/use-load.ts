import { useEffect, useState } from 'preact/hooks';

export interface Loaded<T> {
  /** The last answer; kept while a reload is in flight so the page does not flash empty. */
  data: T | null;
  error: string | null;
  loading: boolean;
  /** Ask again (after a change, or from a "Refresh" button). */
  reload: () => void;
}

/**
 * Loads something when the page shows and again whenever `deps` change or `reload()` is called.
 * An answer that arrives after the inputs changed is dropped, so a slow old request never
 * overwrites a newer one. `load` returning null means "nothing to load yet" (e.g. no server chosen).
 */
export function useLoad<T>(load: () => Promise<T> | null, deps: readonly unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const pending = load();
    if (pending === null) {
      setData(null);
      setLoading(false);
      return;
    }
    let live = true;
    setLoading(true);
    setError(null);
    pending
      .then((d) => {
        if (live) setData(d);
      })
      .catch((err: Error) => {
        if (!live) return;
        setData(null);
        setError(err.message);
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [...deps, tick]);

  return { data, error, loading, reload: () => setTick((n) => n + 1) };
}
