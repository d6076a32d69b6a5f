// The benchmark's yardstick: a minimal implementation of POST /api/v1/ai/threads/{id}/messages
// built from the same express + postgres.js + openai SDK and nothing else, on the same tables (a
// database migrated by the real server). It looks up the Bearer session token, checks the thread
// belongs to the caller, stores the user message, asks the model (non-streaming) with the thread's
// recent history (the same token budget as the service, in one query), stores the reply, updates
// the thread, and answers 201 {createdMessage, responseMessage}. No limits, no idempotency, no
// busy rule, no logging: what is left is the floor any implementation pays.
// It also serves, the same way, the two other routes the benchmark measures: GET .../messages (a
// page of the thread's current branch, root to head, with each message's sibling_count) and PATCH
// .../state (a merge patch under `If-Match: *`: the state, its version and a revision with the
// patch, in one transaction).
// Environment: DATABASE_URL, OPENAI_BASE_URL, PORT, AI_MODEL, AI_CONTEXT_TOKENS, DATABASE_POOL_SIZE.
import { createHash, timingSafeEqual } from 'node:crypto';
import express from 'express';
import OpenAI from 'openai';
import postgres from 'postgres';

const env = process.env;
const sql = postgres(env.DATABASE_URL, { max: Number(env.DATABASE_POOL_SIZE ?? 10), onnotice: () => {} });
const openai = new OpenAI({ apiKey: env.OPENAI_API_KEY ?? 'bench', baseURL: env.OPENAI_BASE_URL, timeout: 60_000, maxRetries: 1 });
const model = env.AI_MODEL ?? 'fake-model';
const budget = Number(env.AI_CONTEXT_TOKENS ?? 8000);
const TOKEN = /^Bearer\s+sess_([a-z2-7]{24})\.([a-z2-7]{24})$/i;

const estimateTokens = (text) => Math.ceil(text.length / 4);

const toMessage = (row, siblingCount = 1) => ({
  id: Number(row.id),
  thread_id: Number(row.thread_id),
  parent_id: row.parent_id === null ? null : Number(row.parent_id),
  sibling_count: siblingCount,
  sibling_index: row.sibling_index,
  role: row.role,
  content: row.content,
  state: row.state,
  updated_state: row.updated_state,
  status: row.status,
  model: row.model,
  usage: row.usage,
  latency_ms: row.latency_ms,
  context_truncated: row.context_truncated,
  created_at: row.created_at.toISOString(),
});

/** RFC 7396 on plain JSON. */
function mergePatch(target, patch) {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** A JSON Patch from `a` to `b` (objects key by key, anything else replaced whole). */
function diff(a, b, path = '') {
  const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const ops = [];
    for (const key of Object.keys(a)) if (!(key in b)) ops.push({ op: 'remove', path: `${path}/${key}` });
    for (const [key, value] of Object.entries(b)) {
      if (!(key in a)) ops.push({ op: 'add', path: `${path}/${key}`, value });
      else ops.push(...diff(a[key], value, `${path}/${key}`));
    }
    return ops;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ op: 'replace', path: path || '', value: b }];
}

/** The caller and the thread id, or an answer already sent (401, 404). */
async function callerAndThread(req, res) {
  const userId = await authenticate(req.headers.authorization);
  if (userId === null) {
    res.status(401).json({ message: 'Unauthenticated.' });
    return null;
  }
  const threadId = Number(req.params.id);
  if (!Number.isSafeInteger(threadId) || threadId < 1) {
    res.status(404).json({ message: 'Thread not found.' });
    return null;
  }
  return { userId, threadId };
}

async function authenticate(header) {
  const match = TOKEN.exec(header ?? '');
  if (!match) return null;
  const [row] = await sql`select user_id, secret_hash, expires_at from sessions where id = ${match[1]}`;
  if (!row || row.expires_at <= new Date()) return null;
  const actual = createHash('sha256').update(match[2]).digest();
  const expected = Buffer.from(row.secret_hash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected) ? Number(row.user_id) : null;
}

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ limit: '256kb' }));

app.get('/readyz', async (_req, res) => {
  await sql`select 1`;
  res.json({ status: 'ready' });
});

app.post('/api/v1/ai/threads/:id/messages', async (req, res, next) => {
  try {
    const userId = await authenticate(req.headers.authorization);
    if (userId === null) return res.status(401).json({ message: 'Unauthenticated.' });
    const content = req.body?.content;
    if (typeof content !== 'string' || content.trim() === '' || [...content].length > 5000) {
      return res.status(422).json({ message: 'The content field is required.', errors: { content: ['The content field is required.'] } });
    }
    const threadId = Number(req.params.id);
    if (!Number.isSafeInteger(threadId) || threadId < 1) return res.status(404).json({ message: 'Thread not found.' });
    const [thread] = await sql`select id, instructions from threads where id = ${threadId} and user_id = ${userId}`;
    if (!thread) return res.status(404).json({ message: 'Thread not found.' });

    const [created] = await sql`
      insert into messages (thread_id, role, content, status, token_count)
      values (${threadId}, 'user', ${content}, 'completed', ${estimateTokens(content)})
      returning *`;
    // The newest completed turns that fit the budget, oldest first (at most 1600 rows can fit).
    const history = await sql`
      select role, content from (
        select id, role, content, sum(token_count + 4) over (order by id desc) as spent
        from (select id, role, content, token_count from messages
              where thread_id = ${threadId} and id < ${created.id} and status = 'completed'
              order by id desc limit 1600) recent
      ) w
      where spent <= ${budget - estimateTokens(content) - 4}
      order by id`;
    const messages = [];
    if (thread.instructions) messages.push({ role: 'system', content: thread.instructions });
    for (const turn of history) messages.push({ role: turn.role, content: turn.content });
    messages.push({ role: 'user', content });

    const started = performance.now();
    const completion = await openai.chat.completions.create({ model, messages });
    const latencyMs = Math.round(performance.now() - started);
    const text = completion.choices[0]?.message?.content ?? '';
    const usage = completion.usage
      ? { prompt_tokens: completion.usage.prompt_tokens, completion_tokens: completion.usage.completion_tokens }
      : null;

    const [reply] = await sql`
      with reply as (
        insert into messages (thread_id, role, content, status, model, usage, latency_ms, token_count)
        values (${threadId}, 'assistant', ${text}, 'completed', ${completion.model ?? model}, ${usage ? sql.json(usage) : null},
                ${latencyMs}, ${estimateTokens(text)})
        returning *
      ), thread as (
        update threads set message_count = message_count + 2, last_message_at = (select created_at from reply),
               updated_at = now()
        where id = ${threadId}
      )
      select * from reply`;
    res.status(201).json({ createdMessage: toMessage(created), responseMessage: toMessage(reply) });
  } catch (error) {
    next(error);
  }
});

app.get('/api/v1/ai/threads/:id/messages', async (req, res, next) => {
  try {
    const who = await callerAndThread(req, res);
    if (!who) return;
    const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? 20) || 20));
    const [thread] = await sql`select id, head_message_id from threads where id = ${who.threadId} and user_id = ${who.userId}`;
    if (!thread) return res.status(404).json({ message: 'Thread not found.' });
    const rows =
      thread.head_message_id === null
        ? []
        : await sql`
            select * from messages where thread_id = ${who.threadId} and id in (
              with recursive branch as (
                select id, parent_id from messages where id = ${thread.head_message_id} and thread_id = ${who.threadId}
                union all
                select m.id, m.parent_id from messages m join branch b on m.id = b.parent_id
              )
              select id from branch)
            order by id limit ${limit + 1}`;
    const page = rows.slice(0, limit);
    const parents = [...new Set(page.map((r) => r.parent_id).filter((p) => p !== null))];
    const counts = new Map();
    if (page.length > 0) {
      const found = await sql`
        select parent_id, count(*)::int as n from messages
        where thread_id = ${who.threadId} and (parent_id = any(${parents}::bigint[]) or parent_id is null)
        group by parent_id`;
      for (const row of found) counts.set(row.parent_id === null ? null : Number(row.parent_id), row.n);
    }
    const hasMore = rows.length > limit;
    res.json({
      data: page.map((row) => toMessage(row, counts.get(row.parent_id === null ? null : Number(row.parent_id)) ?? 1)),
      has_more: hasMore,
      next_cursor: hasMore ? Number(page[page.length - 1].id) : null,
    });
  } catch (error) {
    next(error);
  }
});

app.patch('/api/v1/ai/threads/:id/state', async (req, res, next) => {
  try {
    const who = await callerAndThread(req, res);
    if (!who) return;
    if (req.headers['if-match'] === undefined) return res.status(428).json({ message: 'If-Match is required.' });
    const patch = req.body?.merge_patch;
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      return res.status(422).json({ message: 'The merge patch field must be an object.', errors: { merge_patch: ['must be an object'] } });
    }
    const [thread] = await sql`select state, state_version from threads where id = ${who.threadId} and user_id = ${who.userId}`;
    if (!thread) return res.status(404).json({ message: 'Thread not found.' });
    const next = mergePatch(thread.state ?? {}, patch);
    const ops = diff(thread.state ?? {}, next);
    let version = thread.state_version;
    if (ops.length > 0) {
      version += 1;
      const written = await sql.begin(async (tx) => {
        const [row] = await tx`
          update threads set state = ${tx.json(next)}, state_version = ${version}, updated_at = now()
          where id = ${who.threadId} and state_version = ${thread.state_version} returning id`;
        if (!row) return false;
        await tx`
          insert into state_revisions (thread_id, version, source, patch, state)
          values (${who.threadId}, ${version}, 'state', ${tx.json(ops)}, ${tx.json(next)})`;
        return true;
      });
      if (!written) return res.status(409).json({ message: 'The state changed meanwhile.' });
    }
    res.setHeader('ETag', `"${version}"`);
    res.json({ state: next, version });
  } catch (error) {
    next(error);
  }
});

app.use((err, _req, res, _next) => {
  if (err?.type === 'entity.parse.failed') return res.status(400).json({ message: 'The request body is not valid JSON.' });
  process.stderr.write(`reference: ${err?.stack ?? err}\n`);
  res.status(502).json({ message: 'The AI provider failed to answer.' });
});

const server = app.listen(Number(env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
const stop = () => {
  server.close();
  server.closeAllConnections();
  sql.end({ timeout: 2 }).finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
