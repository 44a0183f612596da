import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession, onSessionLost, setCsrfToken, signOut, type Session } from './api.js';
import { Link } from './link.js';
import { navigate, useLocation } from './router.js';
import { ActivityPage } from './pages/activity.js';
import { AuditPage } from './pages/audit.js';
import { UsersPage } from './pages/users.js';
import { DomainDetailPage } from './pages/domain-detail.js';
import { DomainsPage } from './pages/domains.js';
import { InboxPage } from './pages/inbox.js';
import { MessageDetailPage } from './pages/message.js';
import { LoginPage } from './pages/login.js';
import { OverviewPage } from './pages/overview.js';
import { ListsPage } from './pages/lists.js';
import { ListDetailPage } from './pages/list-detail.js';
import { NotFoundPage } from './pages/not-found.js';
import { WebhookEndpointPage } from './pages/webhook-endpoint.js';
import { WebhooksPage } from './pages/webhooks.js';
import { InboundRoutesPage } from './pages/webhooks-inbound.js';
import { SuppressionsPage } from './pages/suppressions.js';
import { ServerPage } from './pages/server.js';
import { ServersPage } from './pages/servers.js';

/** What every page is given: who is signed in and the URL's query (`?server=...`). */
export interface PageProps {
  session: Session;
  query: URLSearchParams;
}

interface Route {
  path: string;
  /** The page's name: the nav link's text, the document title, the page's h1. */
  label: string;
  page: (p: PageProps) => JSX.Element;
  /** Shown in the navigation (pages reached from another page, like a message's detail, are not). */
  nav: boolean;
  /** Shown in the navigation to admins only (the API refuses the others anyway). */
  adminOnly?: boolean;
  /** The nav entry to mark as current for a page outside the navigation. */
  under?: string;
}

/**
 * Every page of the panel, in navigation order (a page reached from another follows it). A page
 * lives in its own file under pages/.
 */
export const ROUTES: readonly Route[] = [
  { path: '/', label: 'Overview', page: OverviewPage, nav: true },
  { path: '/activity', label: 'Activity', page: ActivityPage, nav: true },
  { path: '/activity/message', label: 'Message', page: MessageDetailPage, nav: false, under: '/activity' },
  { path: '/inbox', label: 'Sandbox inbox', page: InboxPage, nav: true },
  { path: '/servers', label: 'Servers', page: ServersPage, nav: true },
  { path: '/servers/server', label: 'Server', page: ServerPage, nav: false, under: '/servers' },
  { path: '/domains', label: 'Domains', page: DomainsPage, nav: true },
  { path: '/domains/domain', label: 'Domain', page: DomainDetailPage, nav: false, under: '/domains' },
  { path: '/suppressions', label: 'Suppressions', page: SuppressionsPage, nav: true },
  { path: '/webhooks', label: 'Webhooks', page: WebhooksPage, nav: true },
  { path: '/webhooks/endpoint', label: 'Webhook endpoint', page: WebhookEndpointPage, nav: false, under: '/webhooks' },
  { path: '/webhooks/inbound', label: 'Inbound routes', page: InboundRoutesPage, nav: false, under: '/webhooks' },
  { path: '/lists', label: 'Lists', page: ListsPage, nav: true },
  { path: '/lists/list', label: 'List', page: ListDetailPage, nav: false, under: '/lists' },
  { path: '/users', label: 'Users', page: UsersPage, nav: true, adminOnly: true },
  { path: '/users/audit', label: 'Audit log', page: AuditPage, nav: false, under: '/users' },
];

/** The navigation, in order: path and label (what a user of the given role sees). */
export function navFor(role: Session['user']['role']): Route[] {
  return ROUTES.filter((r) => r.nav && (!r.adminOnly || role === 'admin'));
}

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

  const current = ROUTES.find((r) => r.path === path);
  const navCurrent = current?.under ?? current?.path;
  const nav = navFor(session.user.role);
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

  const Page = current?.page;
  const page = Page ? <Page session={session} query={query} /> : <NotFoundPage />;

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
            {nav.map((n) => (
              <li key={n.path}>
                <Link href={n.path} aria-current={n.path === navCurrent ? 'page' : undefined}>
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
