// One thread: the chat beside the form bound to the thread's state, the review of the AI's
// proposal, and the history. This component owns the thread's data and every call that changes it;
// the panels it renders only display and report what the person does.
//
// The form and the service: the person's edits are saved as merge patches with the version the
// form was read at (`expected_version`). A text field saves when typing pauses or the field is
// left; other fields at once. Saves run one at a time, and edits made during a save wait for it.
// A 412 (someone else saved first) opens the conflict screen with both versions.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type Message, type State, type StreamEvent, type Thread, type ThreadState } from './api';
import { Chat } from './Chat';
import { ConflictDialog, type Conflict } from './ConflictDialog';
import { describeError, describeStreamError, type Problem } from './errors';
import { FormPanel } from './FormPanel';
import { HistoryPanel } from './HistoryPanel';
import { applyJsonPatch, applyMergePatch, isObject, mergePatchAt, touches } from './json';
import { ReviewPanel } from './ReviewPanel';

const TYPING_PAUSE_MS = 600;

export interface Streaming {
  /** The person's message once the service has stored it. */
  user: Message | null;
  text: string;
  /** The message being answered again (regenerate), whose old answer the reply replaces on screen. */
  regenerating: number | null;
}

export type Highlight = 'ai' | 'proposed';

interface Props {
  threadId: number;
  onSignedOut: () => void;
  /** Called after the thread was read again (a reply, a save...), for the list beside it. */
  onChanged: () => void;
  onClose: () => void;
}

const asState = (value: unknown): State => (isObject(value) ? value : {});

/** Edits not saved when the session ended, by thread: kept while the page lives, saved after sign-in. */
const keptEdits = new Map<number, { base: ThreadState; patch: State }>();

interface StreamHandlers {
  onData: (event: { data: StreamEvent }) => void;
  onError: (error: unknown) => void;
}
/** Starts one streamed answer (a new message, or a regenerated answer) with these handlers. */
type StartStream = (handlers: StreamHandlers) => { unsubscribe: () => void };

export function ThreadView({ threadId, onSignedOut, onChanged, onClose }: Props) {
  const [thread, setThread] = useState<Thread | null>(null);
  const [messages, setMessages] = useState<Message[]>([]);
  const [server, setServerState] = useState<ThreadState | null>(null);
  const [local, setLocal] = useState<State>({});
  const [saveStatus, setSaveStatus] = useState<'saved' | 'unsaved' | 'saving'>('saved');
  const [highlights, setHighlights] = useState<Map<string, Highlight>>(new Map());
  const [streaming, setStreaming] = useState<Streaming | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [historyKey, setHistoryKey] = useState(0);
  const [storedCount, setStoredCount] = useState(0);

  // What the save loop reads between renders.
  const serverRef = useRef<ThreadState | null>(null);
  const pendingRef = useRef<State | null>(null);
  const savingRef = useRef(false);
  const conflictRef = useRef(false);
  const timerRef = useRef<number | undefined>(undefined);
  const unsubscribeRef = useRef<(() => void) | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const fail = useCallback(
    (error: unknown, content?: string) => {
      const described = describeError(error, content);
      if (described.status === 401) onSignedOut();
      setProblem(described);
      return described;
    },
    [onSignedOut],
  );

  const setServer = useCallback((next: ThreadState) => {
    serverRef.current = next;
    setServerState(next);
    // The form shows the service's state with the edits not saved yet on top.
    setLocal(asState(applyMergePatch(next.state ?? {}, pendingRef.current ?? {})));
  }, []);

  const reload = useCallback(async () => {
    const [nextThread, page, state] = await Promise.all([
      api.threads.get.query({ threadId }),
      api.messages.list.query({ threadId, limit: 100 }),
      api.threads.state.get.query({ threadId }),
    ]);
    setThread(nextThread);
    setMessages(page.data);
    setServer(state);
    setHistoryKey((key) => key + 1);
    onChanged();
  }, [threadId, setServer, onChanged]);

  // ---- the person's edits ---------------------------------------------------------------------

  const flush = useCallback(async (): Promise<void> => {
    window.clearTimeout(timerRef.current);
    const base = serverRef.current;
    const patch = pendingRef.current;
    if (savingRef.current || conflictRef.current || !patch || !base) return;
    pendingRef.current = null;
    savingRef.current = true;
    setSaveStatus('saving');
    try {
      setServer(await api.threads.state.patch.mutate({ threadId, merge_patch: patch, expected_version: base.version }));
      setHistoryKey((key) => key + 1);
    } catch (error) {
      // Nothing was stored: the edits are pending again, in front of any made since.
      const unsaved = asState(applyMergePatch(patch, pendingRef.current ?? {}));
      const described = describeError(error);
      if (described.status === 412) {
        pendingRef.current = null;
        conflictRef.current = true;
        const theirs = await api.threads.state.get.query({ threadId });
        setConflict({ base: base.state ?? {}, mine: asState(applyMergePatch(base.state ?? {}, unsaved)), theirs });
      } else {
        pendingRef.current = unsaved;
        // Signed out: this view goes, the edits stay, to be saved once the person is back.
        if (fail(error).status === 401) keptEdits.set(threadId, { base, patch: unsaved });
        savingRef.current = false;
        setSaveStatus('unsaved');
        return;
      }
    } finally {
      savingRef.current = false;
    }
    if (pendingRef.current) await flush();
    else setSaveStatus(conflictRef.current ? 'unsaved' : 'saved');
  }, [threadId, setServer, fail]);

  const edit = useCallback(
    (pointer: string, value: unknown, when: 'now' | 'after-typing') => {
      const patch = mergePatchAt(pointer, value);
      pendingRef.current = asState(applyMergePatch(pendingRef.current ?? {}, patch));
      setLocal((current) => asState(applyMergePatch(current, patch)));
      setSaveStatus('unsaved');
      setHighlights((current) => withoutTouched(current, pointer));
      window.clearTimeout(timerRef.current);
      if (when === 'now') void flush();
      else timerRef.current = window.setTimeout(() => void flush(), TYPING_PAUSE_MS);
    },
    [flush],
  );

  useEffect(() => {
    reload()
      .then(() => {
        // Edits made before a sign-out are saved now, against the version they were made on: a
        // change made elsewhere meanwhile is a conflict to resolve, not overwritten.
        const kept = keptEdits.get(threadId);
        if (!kept) return;
        keptEdits.delete(threadId);
        pendingRef.current = kept.patch;
        serverRef.current = kept.base;
        return flush();
      })
      .catch((error: unknown) => fail(error));
    headingRef.current?.focus();
    return () => {
      unsubscribeRef.current?.();
      window.clearTimeout(timerRef.current);
    };
  }, [reload, fail, flush]);

  const resolveConflict = useCallback(
    async (patch: State | null) => {
      const current = conflict;
      if (!current) return;
      try {
        if (patch) {
          setServer(await api.threads.state.patch.mutate({ threadId, merge_patch: patch, expected_version: current.theirs.version }));
        } else {
          setServer(current.theirs);
        }
        conflictRef.current = false;
        setConflict(null);
        setSaveStatus('saved');
        setHistoryKey((key) => key + 1);
      } catch (error) {
        const described = describeError(error);
        // Changed again meanwhile: the screen shows the newest version to choose against.
        if (described.status === 412) {
          const theirs = await api.threads.state.get.query({ threadId });
          setConflict({ base: current.base, mine: current.mine, theirs });
        } else fail(error);
      }
    },
    [conflict, threadId, setServer, fail],
  );

  // ---- the AI's answers -----------------------------------------------------------------------

  const onEvent = useCallback(
    (event: StreamEvent) => {
      switch (event.event) {
        case 'message.created':
          setStoredCount((count) => count + 1);
          setStreaming((s) => (s ? { ...s, user: event.data } : s));
          break;
        case 'response.delta':
          setStreaming((s) => (s ? { ...s, text: s.text + event.data.delta } : s));
          break;
        case 'state.delta': {
          const { patch, proposed } = event.data;
          setHighlights((current) => {
            const next = new Map(current);
            for (const op of patch) if (op.op !== 'test') next.set(op.path, proposed ? 'proposed' : 'ai');
            return next;
          });
          if (!proposed) setLocal((current) => asState(applyJsonPatch(current, patch)));
          break;
        }
        case 'response.completed':
          setStreaming(null);
          void reload().catch((error: unknown) => fail(error));
          break;
        case 'error':
          setStreaming(null);
          setProblem(describeStreamError(event.data));
          void reload().catch(() => undefined);
          break;
      }
    },
    [reload, fail],
  );

  const run = useCallback(
    async (start: StartStream, content?: string, regenerating: number | null = null) => {
      await flush();
      if (conflictRef.current) return;
      unsubscribeRef.current?.();
      setProblem(null);
      setHighlights(new Map());
      setStreaming({ user: null, text: '', regenerating });
      const subscription = start({
        onData: ({ data }) => {
          onEvent(data);
          if (data.event === 'response.completed' || data.event === 'error') subscription.unsubscribe();
        },
        onError: (error) => {
          setStreaming(null);
          fail(error, content);
          void reload().catch(() => undefined);
        },
      });
      unsubscribeRef.current = () => subscription.unsubscribe();
    },
    [flush, onEvent, fail, reload],
  );

  const send = useCallback(
    (content: string, parentId?: number | null) =>
      run(
        (handlers) =>
          api.messages.stream.subscribe(
            parentId === undefined ? { threadId, content } : { threadId, content, parent_id: parentId },
            handlers,
          ),
        content,
      ),
    [run, threadId],
  );

  const regenerate = useCallback(
    (message: Message) =>
      run((handlers) => api.messages.regenerateStream.subscribe({ threadId, messageId: message.id }, handlers), undefined, message.id),
    [run, threadId],
  );

  const switchSibling = useCallback(
    async (message: Message, step: -1 | 1) => {
      try {
        const siblings = await api.messages.siblings.query({ threadId, messageId: message.id, limit: 100 });
        const target = siblings.data[message.sibling_index + step];
        if (!target) return;
        await api.threads.setHead.mutate({ threadId, message_id: target.id });
        await reload();
      } catch (error) {
        fail(error);
      }
    },
    [threadId, reload, fail],
  );

  const setReviewMode = useCallback(
    async (review: boolean) => {
      const mode = review ? 'review' : 'auto';
      // Shown at once; the service's answer (or, on a refusal, the thread as it is) follows.
      setThread((current) => (current ? { ...current, state_review: mode } : current));
      try {
        setThread(await api.threads.update.mutate({ threadId, state_review: mode }));
      } catch (error) {
        fail(error);
        await reload().catch(() => undefined);
      }
    },
    [threadId, fail, reload],
  );

  // ---- review and history ---------------------------------------------------------------------

  const pending = [...messages].reverse().find((m) => m.proposal?.status === 'pending') ?? null;

  const decide = useCallback(
    async (message: Message, accepted: string[] | 'all' | 'none') => {
      const version = serverRef.current?.version ?? 0;
      try {
        if (accepted === 'none' || (Array.isArray(accepted) && accepted.length === 0)) {
          await api.messages.proposal.reject.mutate({ threadId, messageId: message.id });
        } else {
          await api.messages.proposal.accept.mutate({
            threadId,
            messageId: message.id,
            expected_version: version,
            ...(accepted === 'all' ? {} : { paths: accepted }),
          });
        }
        setHighlights(new Map());
        await reload();
      } catch (error) {
        fail(error);
        await reload().catch(() => undefined);
      }
    },
    [threadId, reload, fail],
  );

  const revert = useCallback(
    async (version: number) => {
      await flush();
      if (conflictRef.current) return;
      try {
        setServer(await api.threads.state.revert.mutate({ threadId, version, expected_version: serverRef.current?.version ?? 0 }));
        setHistoryKey((key) => key + 1);
        setProblem(null);
      } catch (error) {
        fail(error);
        await reload().catch(() => undefined);
      }
    },
    [threadId, flush, setServer, fail, reload],
  );

  return (
    <main className="thread" id="main">
      <div className="thread-head">
        <button type="button" className="secondary back" onClick={onClose}>
          ‹ Threads
        </button>
        <h1 ref={headingRef} tabIndex={-1}>
          {thread?.title ?? 'Thread'}
        </h1>
        <label className="inline review-toggle">
          <input
            type="checkbox"
            checked={thread?.state_review === 'review'}
            disabled={!thread}
            onChange={(e) => void setReviewMode(e.target.checked)}
          />
          Review AI changes
        </label>
      </div>
      {problem && (
        <div role="alert" className="problem banner">
          <p>{problem.text}</p>
          <button type="button" className="secondary" onClick={() => setProblem(null)}>
            Dismiss
          </button>
        </div>
      )}
      <div className="workspace">
        <Chat
          messages={messages}
          streaming={streaming}
          onSend={send}
          onRegenerate={regenerate}
          onSwitch={switchSibling}
          storedCount={storedCount}
        />
        <div className="side">
          {pending && server && (
            <ReviewPanel message={pending} state={server.state ?? {}} onDecide={(accepted) => decide(pending, accepted)} />
          )}
          <FormPanel
            state={local}
            version={server?.version ?? null}
            status={saveStatus}
            highlights={highlights}
            onEdit={edit}
            onLeaveField={() => void flush()}
          />
          <HistoryPanel threadId={threadId} refreshKey={historyKey} currentVersion={server?.version ?? null} onRevert={revert} />
        </div>
      </div>
      {conflict && <ConflictDialog key={conflict.theirs.version} conflict={conflict} onResolve={(patch) => void resolveConflict(patch)} />}
    </main>
  );
}

/** The highlights left once the person edits a field: the AI's mark on it goes. */
function withoutTouched(highlights: Map<string, Highlight>, pointer: string): Map<string, Highlight> {
  if (highlights.size === 0) return highlights;
  const next = new Map(highlights);
  for (const path of highlights.keys()) if (touches(path, pointer)) next.delete(path);
  return next;
}
