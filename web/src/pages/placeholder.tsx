import { Link } from '../link.js';

export function PlaceholderPage({ title, what }: { title: string; what: string }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      <p class="muted">Coming soon: {what}.</p>
      <p>
        Until then, use the management API (<a href="/docs">API reference</a>) or the <code>postline</code> command line.
      </p>
    </section>
  );
}

export function NotFoundPage() {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Page not found
      </h1>
      <p>
        There is no such page in the control panel. Go to the <Link href="/">overview</Link>.
      </p>
    </section>
  );
}
