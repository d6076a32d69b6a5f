// The shell: who is signed in (sign-up / sign-in until someone is), the list of threads, and the
// open thread. Where we are lives in the URL's hash (`#/threads/12`), so a thread can be
// bookmarked and the service only needs to serve `/`.
import { useCallback, useEffect, useState } from 'react';
import { api, type User } from './api';
import { AuthScreen } from './AuthScreen';
import { describeError } from './errors';
import { ThreadList } from './ThreadList';
import { ThreadView } from './ThreadView';

function threadIdOf(hash: string): number | null {
  const match = /^#\/threads\/(\d+)$/.exec(hash);
  return match ? Number(match[1]) : null;
}

function useHashRoute(): [number | null, (id: number | null) => void] {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const go = useCallback((id: number | null) => {
    window.location.hash = id === null ? '#/' : `#/threads/${id}`;
  }, []);
  return [threadIdOf(hash), go];
}

export function App() {
  // undefined: not known yet; null: nobody is signed in.
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [startupError, setStartupError] = useState<string | null>(null);
  const [threadId, openThread] = useHashRoute();
  // Counts the open thread's changes, so that the list shows its new title, count and version.
  const [changes, setChanges] = useState(0);
  const changed = useCallback(() => setChanges((n) => n + 1), []);

  useEffect(() => {
    api.me.get.query({}).then(
      (me) => setUser(me.user),
      (error: unknown) => {
        const problem = describeError(error);
        if (problem.status === 401) setUser(null);
        else setStartupError(problem.text);
      },
    );
  }, []);

  // Why the sign-in screen is back, when it is not the person's own doing (a session that ended).
  const [notice, setNotice] = useState<string | null>(null);
  const signedOut = useCallback(() => {
    setNotice('You were signed out (your session ended). Sign in again to continue where you were.');
    setUser(null);
  }, []);

  const signOut = async () => {
    await api.auth.signOut.mutate({}).catch(() => undefined);
    setNotice(null);
    setUser(null);
    openThread(null);
  };

  if (startupError) {
    return (
      <main className="centered">
        <h1>Form copilot</h1>
        <p role="alert">{startupError}</p>
      </main>
    );
  }
  if (user === undefined) return <main className="centered" aria-busy="true">Loading…</main>;
  if (user === null) return <AuthScreen notice={notice} onSignedIn={setUser} />;

  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="#/">
          Form copilot
        </a>
        <span className="who">{user.email}</span>
        <button type="button" className="secondary" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div className={threadId === null ? 'layout no-thread' : 'layout with-thread'}>
        <ThreadList currentId={threadId} refreshKey={changes} onOpen={openThread} onSignedOut={signedOut} />
        {threadId === null ? (
          <main className="empty" id="main">
            <h1>Fill in a form with an AI copilot</h1>
            <p>
              Create a thread, then ask in the chat, for example <q>set form.color to blue</q>. The copilot changes the form
              beside the chat; you can edit it too, review its changes, and go back in history.
            </p>
          </main>
        ) : (
          <ThreadView key={threadId} threadId={threadId} onSignedOut={signedOut} onChanged={changed} onClose={() => openThread(null)} />
        )}
      </div>
    </div>
  );
}
