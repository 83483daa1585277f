import { useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, describeError } from '../../shared/api.ts';
import { useApi } from '../../shared/session.tsx';
import { Button, Notice, TextField, useDocumentTitle } from '../../shared/ui.tsx';

export function SignIn() {
  useDocumentTitle('Sign in', 'Bazaar Admin');
  const api = useApi();
  const client = useQueryClient();
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
      client.clear();
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? 'That email and password do not match an account.' : describeError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="admin-auth">
      <main className="card auth-card">
        <p className="admin-brand">
          Bazaar <span>Admin &amp; seller center</span>
        </p>
        <h1>Sign in</h1>
        <form className="form" onSubmit={submit} noValidate>
          {error ? <Notice tone="error">{error}</Notice> : null}
          <TextField label="Email" type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <TextField label="Password" type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          <Button type="submit" size="lg" className="btn-block" busy={busy}>
            Sign in
          </Button>
        </form>
        <p className="small muted">
          Want to sell on Bazaar? <a href="/signup?seller=1">Open a seller account</a>.
        </p>
      </main>
    </div>
  );
}
