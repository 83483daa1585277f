import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { ApiError, describeError } from '../../shared/api.ts';
import { useApi } from '../../shared/session.tsx';
import { Button, Notice, TextField, useDocumentTitle } from '../../shared/ui.tsx';

/** Only same-site paths: `?next=https://evil.example` must not turn sign-in into a redirector. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export default function SignInPage() {
  useDocumentTitle('Sign in', 'Bazaar');
  const api = useApi();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.auth.login(email.trim(), password);
      // The guest cart was merged into the account's: everything cached about carts is stale.
      navigate(next, { replace: true });
      void client.invalidateQueries();
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'That email and password do not match an account.' : describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="container page auth-page">
      <div className="card auth-card">
        <h1>Sign in</h1>
        <p className="muted">Welcome back. Your cart comes with you.</p>
        <form className="form" onSubmit={submit} noValidate>
          {error ? <Notice tone="error">{error}</Notice> : null}
          <TextField label="Email" type="email" name="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <TextField label="Password" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <Button type="submit" size="lg" busy={busy} className="btn-block">
            Sign in
          </Button>
        </form>
        <p className="auth-switch">
          New to Bazaar? <Link to={`/signup${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</Link>
        </p>
      </div>
    </div>
  );
}
