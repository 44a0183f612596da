import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession, onSessionLost, setCsrfToken, signOut, type Session } from './api.js';
import { Link } from './link.js';
import { navigate, useLocation } from './router.js';
import { ActivityPage } from './pages/activity.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { NotFoundPage, PlaceholderPage } from './pages/placeholder.js';

/** The navigation, in order: path and label. */
export const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/activity', label: 'Activity' },
  { path: '/servers', label: 'Servers' },
  { path: '/suppressions', label: 'Suppressions' },
  { path: '/webhooks', label: 'Webhooks' },
] as const;

/** Where to go after signing in: a path of this app only (never `//host` or an absolute URL). */
export function safeNext(next: string | null): string {
  if (next === null || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/login')) return '/';
  return next;
}

export function App() {
  const loc = useLocation();
  // undefined: still asking the server whether the cookie is a live session.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [bootError, setBootError] = useState<string | null>(null);

  const adopt = (s: Session | null) => {
    setCsrfToken(s?.csrfToken ?? null);
    setSession(s);
  };

  useEffect(() => {
    onSessionLost(() => adopt(null));
    currentSession()
      .then(adopt)
      .catch((err: Error) => setBootError(err.message));
  }, []);

  useEffect(() => {
    if (session === undefined) return;
    if (session === null && loc.path !== '/login') {
      const here = loc.path + (loc.query.size > 0 ? `?${loc.query}` : '');
      navigate(here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`, { replace: true });
    } else if (session !== null && loc.path === '/login') {
      navigate(safeNext(loc.query.get('next')), { replace: true });
    }
  }, [session, loc.path]);

  if (bootError !== null) {
    return (
      <main class="centered" id="main">
        <h1>Postline is not answering</h1>
        <p role="alert">{bootError}</p>
        <button type="button" onClick={() => location.reload()}>
          Try again
        </button>
      </main>
    );
  }
  if (session === undefined) {
    return (
      <main class="centered" id="main" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (session === null || loc.path === '/login') {
    return <LoginPage onSignedIn={adopt} />;
  }
  return <Shell session={session} path={loc.path} query={loc.query} onSignedOut={() => adopt(null)} />;
}

function Shell({ session, path, query, onSignedOut }: { session: Session; path: string; query: URLSearchParams; onSignedOut: () => void }) {
  const [signOutError, setSignOutError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  const current = NAV.find((n) => n.path === path);
  useEffect(() => {
    document.title = `${current?.label ?? 'Not found'} · Postline`;
    // After an in-app navigation, move focus to the new page (screen readers announce it; Tab starts there).
    if (first.current) first.current = false;
    else main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [path]);

  const doSignOut = async () => {
    setBusy(true);
    setSignOutError(null);
    try {
      await signOut();
      onSignedOut();
    } catch (err) {
      setSignOutError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  let page: JSX.Element;
  switch (path) {
    case '/':
      page = <OverviewPage session={session} />;
      break;
    case '/activity':
      page = <ActivityPage query={query} />;
      break;
    case '/servers':
      page = <PlaceholderPage title="Servers" what="managing servers, their keys and their settings here" />;
      break;
    case '/suppressions':
      page = <PlaceholderPage title="Suppressions" what="browsing and editing each server's suppression list" />;
      break;
    case '/webhooks':
      page = <PlaceholderPage title="Webhooks" what="webhook endpoints, their deliveries and replays" />;
      break;
    default:
      page = <NotFoundPage />;
  }

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          Postline
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.path}>
                <Link href={n.path} aria-current={n.path === path ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="who-email" title={session.user.email}>
            {session.user.email}
          </span>
          <span class="role">{session.user.role}</span>
          <button type="button" class="secondary" onClick={doSignOut} disabled={busy}>
            Sign out
          </button>
        </div>
      </header>
      {signOutError !== null && (
        <p class="banner error" role="alert">
          Signing out failed: {signOutError}
        </p>
      )}
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
    </div>
  );
}
