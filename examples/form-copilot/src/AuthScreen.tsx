// Sign up or sign in. The service answers with the session cookie, which the browser keeps; the
// token in the answer body is not needed by a page on the same origin.
import { useId, useState, type FormEvent } from 'react';
import { api, type User } from './api';
import { describeError } from './errors';

interface Props {
  /** Said above the form: why the person is asked to sign in again. */
  notice: string | null;
  onSignedIn: (user: User) => void;
}

export function AuthScreen({ notice, onSignedIn }: Props) {
  const [mode, setMode] = useState<'sign-up' | 'sign-in'>(notice ? 'sign-in' : 'sign-up');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const result =
        mode === 'sign-up'
          ? await api.auth.signUp.mutate({ email, password, ...(name ? { name } : {}) })
          : await api.auth.signIn.mutate({ email, password });
      onSignedIn(result.user);
    } catch (error) {
      const described = describeError(error);
      setProblem(described.status === 401 ? 'That email and password do not match an account.' : described.text);
    } finally {
      setBusy(false);
    }
  };

  const signingUp = mode === 'sign-up';
  return (
    <main className="centered auth">
      <h1>Form copilot</h1>
      {notice && (
        <p role="alert" className="problem">
          {notice}
        </p>
      )}
      <p>A form you fill in together with an AI. {signingUp ? 'Create an account to start.' : 'Welcome back.'}</p>
      <form onSubmit={(event) => void submit(event)} aria-labelledby={`${id}-title`}>
        <h2 id={`${id}-title`}>{signingUp ? 'Create an account' : 'Sign in'}</h2>
        {signingUp && (
          <label>
            Name <span className="optional">(optional)</span>
            <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" />
        </label>
        <label>
          Password
          <input
            type="password"
            required
            minLength={signingUp ? 8 : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete={signingUp ? 'new-password' : 'current-password'}
            aria-describedby={signingUp ? `${id}-password-hint` : undefined}
          />
        </label>
        {signingUp && (
          <p className="hint" id={`${id}-password-hint`}>
            At least 8 characters.
          </p>
        )}
        {problem && (
          <p role="alert" className="problem">
            {problem}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {signingUp ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p>
        {signingUp ? 'Already have an account?' : 'New here?'}{' '}
        <button type="button" className="link" onClick={() => setMode(signingUp ? 'sign-in' : 'sign-up')}>
          {signingUp ? 'Sign in' : 'Create an account'}
        </button>
      </p>
    </main>
  );
}
