import { Link } from '../link.js';

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
