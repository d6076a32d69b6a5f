// The published package, as a user gets it: `npm pack` of client-sdk (its prepack builds it),
// installed offline into an empty project outside the workspace, then a plain-node program
// (fixtures/tarball-consumer.mjs) that imports '@ai-threads/sdk' runs against the real service:
// the seed's example, a stream, pages, a 422, a 429, and a 409 and a 5xx retried without
// duplicates (the rows are counted here). Also: the packed types check a TypeScript consumer, of
// the REST client and of the tRPC client (with @trpc/client and @trpc/server beside it, as its
// users install them), and the packed files never import server code.
import { execFile, spawn } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../client-sdk/src/index.js';
import { harness, type TestApp } from '../support/harness.js';
import { gate } from '../support/threads.js';

const run = promisify(execFile);
const SDK_DIR = fileURLToPath(new URL('../../client-sdk/', import.meta.url));
const CONSUMER = fileURLToPath(new URL('./fixtures/tarball-consumer.mjs', import.meta.url));
const TSC = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
const WORKSPACE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/** The environment for child processes: no test-runner loader options. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _options, ...env } = process.env;
  return { ...env, ...extra };
}

let workDir: string;
let projectDir: string;
let tarball: string;
let limited: TestApp;
const { app, fake, startApp } = await harness();

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ai-threads-sdk-'));
  const [{ stdout }] = await Promise.all([
    run('npm', ['pack', '--pack-destination', workDir, '--json'], { cwd: SDK_DIR, env: childEnv(), maxBuffer: 16 * 1024 * 1024 }),
    (async () => {
      limited = await startApp({ model: 'offline', env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
    })(),
  ]);
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(workDir, packed!.filename);

  projectDir = join(workDir, 'consumer');
  await mkdir(projectDir);
  await writeFile(join(projectDir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund'], { cwd: projectDir, env: childEnv() });
  await copyFile(CONSUMER, join(projectDir, 'consumer.mjs'));
}, 240_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

interface ConsumerRun {
  code: number | null;
  stderr: string;
  busySignals: number;
  result: any;
}

/** Runs the consumer with plain node; opens `onBusy` when it reports a 409. */
function runConsumer(onBusy: () => void): Promise<ConsumerRun> {
  const child = spawn(process.execPath, ['consumer.mjs'], {
    cwd: projectDir,
    env: childEnv({ AI_THREADS_URL: app.url, AI_THREADS_LIMITED_URL: limited.url }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const outcome: ConsumerRun = { code: null, stderr: '', busySignals: 0, result: undefined };
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const message = JSON.parse(line) as { type: string; result?: unknown };
    if (message.type === 'busy') {
      outcome.busySignals += 1;
      onBusy();
    }
    if (message.type === 'result') outcome.result = message.result;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...outcome, code, stderr }));
  });
}

describe('the packed @ai-threads/sdk', () => {
  it('holds the built files, the OpenAPI document and the README, and no server code', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    expect(files).toEqual(
      expect.arrayContaining([
        'package/package.json',
        'package/README.md',
        'package/openapi.json',
        'package/dist/index.js',
        'package/dist/index.d.ts',
        'package/dist/trpc.js',
        'package/dist/trpc.d.ts',
        'package/dist/generated/api.d.ts',
        'package/dist/generated/trpc-router.d.ts',
      ]),
    );
    expect(files.filter((f) => !f.startsWith('package/dist/') && !/^package\/(package\.json|README\.md|openapi\.json)$/.test(f))).toEqual([]);

    const installed = join(projectDir, 'node_modules/@ai-threads/sdk');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: '@ai-threads/sdk', version: VERSION, type: 'module' });
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.peerDependenciesMeta).toEqual({ '@trpc/client': { optional: true }, '@trpc/server': { optional: true } });
    const built = await readdir(join(installed, 'dist'), { recursive: true });
    for (const file of built.filter((f) => f.endsWith('.js') || f.endsWith('.d.ts'))) {
      const source = await readFile(join(installed, 'dist', file), 'utf8');
      expect(source, file).not.toMatch(/(from ['"]|import\(['"])[^'"]*server\//);
      if (file.endsWith('.js')) expect(source, file).not.toMatch(/from ['"]node:/);
    }
  });

  it('works from plain node: seed, stream, pages, 422, 429, and retries without duplicates', async () => {
    const held = gate();
    fake.script(
      { type: 'text', content: 'Hi! How can I help?' },
      { type: 'text', content: 'Streamed from the tarball.' },
      { type: 'gate', until: held.until, then: { type: 'text', content: 'First answer.' } },
      { type: 'text', content: 'Second answer.' },
      { type: 'error', status: 500 },
      { type: 'text', content: 'Recovered.' },
    );

    const outcome = await runConsumer(() => held.open());
    expect(outcome.code, outcome.stderr).toBe(0);
    const { result } = outcome;
    expect(result.defaultExportIsClient).toBe(true);

    expect(result.seed).toEqual({
      created: { role: 'user', content: 'Hello!', status: 'completed', updated_state: null },
      response: { role: 'assistant', content: 'Hi! How can I help?', status: 'completed', updated_state: { form: { field: 'value' } } },
    });

    expect(result.stream.names).toEqual(['message.created', 'response.delta', 'response.completed']);
    expect(result.stream.text).toBe('Streamed from the tarball.');
    expect(result.stream.final).toMatchObject({ content: 'Streamed from the tarball.', status: 'completed' });

    expect(result.pages).toEqual({
      isCursorPage: true,
      firstPageSize: 2,
      hasMore: true,
      titles: ['page 2', 'page 1', 'page 0', 'Form'],
      contents: ['Hello!', 'Hi! How can I help?', 'Stream it', 'Streamed from the tarball.'],
    });

    expect(result.validation).toEqual({
      isValidationError: true,
      isUnprocessableEntityError: true,
      status: 422,
      errors: { content: [expect.any(String)] },
      message: result.validation.errors.content[0],
    });

    expect(outcome.busySignals).toBeGreaterThanOrEqual(1);
    expect(result.busy.statuses[0]).toBe(409);
    expect(result.busy.statuses.at(-1)).toBe(201);
    expect(result.busy.keys).toBe(1);
    expect(result.busy.first).toMatchObject({ content: 'First answer.', status: 'completed' });
    expect(result.busy.second).toMatchObject({ content: 'Second answer.', status: 'completed' });
    expect(result.busy.messages.map((m: any) => [m.role, m.content, m.status])).toEqual([
      ['user', 'First', 'completed'],
      ['assistant', 'First answer.', 'completed'],
      ['user', 'Second', 'completed'],
      ['assistant', 'Second answer.', 'completed'],
    ]);

    expect(result.flaky.statuses).toEqual([502, 201]);
    expect(result.flaky.keys).toBe(1);
    expect(result.flaky.created).toMatchObject({ content: 'Flaky', status: 'completed' });
    expect(result.flaky.response).toMatchObject({ content: 'Recovered.', status: 'completed' });
    expect(result.flaky.messages.map((m: any) => [m.role, m.content, m.status])).toEqual([
      ['user', 'Flaky', 'completed'],
      ['assistant', 'Recovered.', 'completed'],
    ]);

    expect(result.rateLimit).toEqual({
      isRateLimitError: true,
      isAPIError: true,
      status: 429,
      message: 'Too Many Attempts.',
      retryAfter: expect.any(Number),
      limit: 1,
      remaining: 0,
      hasRequestId: true,
    });
    expect(result.rateLimit.retryAfter).toBeGreaterThan(0);
    expect(result.rateLimit.retryAfter).toBeLessThanOrEqual(60);

    // Threads: Form, three pages, busy, flaky. Messages: seed 2, stream 2, busy 4, flaky 2.
    expect(await app.count('threads')).toBe(6);
    expect(await app.count('messages')).toBe(10);
    expect(await limited.count('messages')).toBe(2);
    expect(fake.pending()).toBe(0);
  });

  it('types a tRPC consumer from the packed declarations alone: real inputs and outputs, not an untyped router', async () => {
    // A tRPC front end installs the client and server packages next to the SDK (its peer dependencies).
    for (const name of ['@trpc/client', '@trpc/server']) {
      await cp(join(WORKSPACE_MODULES, name), join(projectDir, 'node_modules', name), { recursive: true, dereference: true });
    }
    await writeFile(
      join(projectDir, 'trpc-consumer.ts'),
      [
        "import { createAiThreadsTRPCClient, type AppRouter } from '@ai-threads/sdk/trpc';",
        "import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';",
        "const trpc = createAiThreadsTRPCClient({ url: 'http://localhost:3000', token: 'token' });",
        "const email = (me: inferRouterOutputs<AppRouter>['me']['get']): string => me.user.email;",
        'export async function main(): Promise<string> {',
        "  const thread = await trpc.threads.create.mutate({ title: 'Form' });",
        '  const id: number = thread.id;',
        '  const title: string | null = thread.title;',
        "  const pair = await trpc.messages.create.mutate({ threadId: id, content: 'Hello!', state: { form: { field: 'value' } } });",
        "  const role: 'user' | 'assistant' | 'tool' = pair.responseMessage.role;",
        '  const page = await trpc.messages.list.query({ threadId: id, limit: 10 });',
        '  const contents: string[] = page.data.map((message) => message.content);',
        "  const input: inferRouterInputs<AppRouter>['threads']['update'] = { threadId: id, title: null };",
        '  const me = await trpc.me.get.query({});',
        "  trpc.messages.stream.subscribe({ threadId: id, content: 'Stream it' }, {",
        '    onData: ({ id: eventId, data }) => {',
        "      if (data.event === 'response.delta') console.log(eventId.toUpperCase(), data.data.delta.toUpperCase());",
        '    },',
        '  });',
        '  // @ts-expect-error a title is a string',
        '  await trpc.threads.create.mutate({ title: 42 });',
        '  // @ts-expect-error content is required',
        '  await trpc.messages.create.mutate({ threadId: id });',
        '  // @ts-expect-error there is no such procedure',
        '  await trpc.threads.archive.mutate({ threadId: id });',
        '  // @ts-expect-error a thread id is a number',
        '  const wrong: string = thread.id;',
        '  return [title, role, ...contents, input.title, email(me), wrong].join();',
        '}',
      ].join('\n'),
    );
    // @trpc/server's own declarations use Disposable, so its users need that lib.
    await typeCheck('trpc-consumer.ts', ['esnext.disposable']);
  });

  it('types a TypeScript consumer from the packed declarations alone', async () => {
    await writeFile(
      join(projectDir, 'consumer.ts'),
      [
        "import { AiThreads, RateLimitError, type MessagePair, type Thread } from '@ai-threads/sdk';",
        "const client = new AiThreads({ baseURL: 'http://localhost:3000', apiKey: 'token' });",
        'export async function main(): Promise<string> {',
        "  const thread: Thread = await client.threads.create({ title: 'Form' });",
        "  const pair: MessagePair = await client.messages.create(thread.id, { content: 'Hello!', state: { form: { field: 'value' } } });",
        '  const state: Record<string, unknown> | null = pair.responseMessage.updated_state;',
        "  for await (const event of client.messages.stream(thread.id, { content: 'Hi' })) {",
        "    if (event.event === 'response.delta') console.log(event.data.delta.toUpperCase());",
        '  }',
        '  for await (const message of client.messages.list(thread.id, { limit: 10 })) console.log(message.role);',
        '  try {',
        "    // @ts-expect-error content is required",
        '    await client.messages.create(thread.id, {});',
        '  } catch (error) {',
        '    if (error instanceof RateLimitError) return String(error.retryAfter);',
        '  }',
        '  return JSON.stringify(state);',
        '}',
      ].join('\n'),
    );
    await typeCheck('consumer.ts');
  });
});

/** Type-checks one file of the consumer project, strictly and without skipLibCheck; rejects with tsc's output. */
async function typeCheck(file: string, extraLib: string[] = []): Promise<void> {
  await writeFile(
    join(projectDir, `tsconfig.${file}.json`),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['es2022', 'dom', 'dom.iterable', ...extraLib],
        types: [],
        skipLibCheck: false,
      },
      files: [file],
    }),
  );
  const check = run(process.execPath, [TSC, '-p', `tsconfig.${file}.json`], { cwd: projectDir, env: childEnv() });
  await expect(check.catch((error: { stdout?: string }) => Promise.reject(new Error(error.stdout)))).resolves.toBeDefined();
}
