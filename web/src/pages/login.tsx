import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, signIn, type Session } from '../api.js';

/** What to say for a refused sign-in: the API's codes in plain words, anything else as the server put it. */
export function signInError(err: unknown): string {
  if (err instanceof ApiFailure) {
    if (err.code === 'invalid_credentials') return 'Wrong email or password.';
    if (err.code === 'too_many_requests') return 'Too many sign-in attempts. Wait a minute, then try again.';
    return err.message;
  }
  return (err as Error).message;
}

export function LoginPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const emailField = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Postline';
    emailField.current?.focus();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(email.trim(), password));
    } catch (err) {
      setError(signInError(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="centered" id="main">
      <form class="card signin" onSubmit={submit} aria-labelledby="signin-title" aria-describedby={error === null ? undefined : 'signin-error'}>
        <h1 id="signin-title">Sign in to Postline</h1>
        <div class="field">
          <label for="signin-email">Email</label>
          <input
            id="signin-email"
            ref={emailField}
            name="email"
            type="email"
            autoComplete="username"
            required
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="signin-password">Password</label>
          <input
            id="signin-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </div>
        {error !== null && (
          <p id="signin-error" class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
