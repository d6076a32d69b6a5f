// Resumes on another instance follow the answer through Redis over ONE subscriber connection per
// instance, however many clients reconnect there (each used to open its own). Two built instances
// on one PostgreSQL and Redis; instance B's connections are told apart by their name in CLIENT
// LIST, which carries the process id.
import { hostname } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FakeOpenAI } from '../fake-openai/server.js';
import type { TestApp } from '../support/harness.js';
import { openStream, type SseReader } from '../support/sse.js';
import { newThread, type User } from './support/api.js';
import { redisCommands } from './support/backing.js';
import type { Instance } from './support/instances.js';
import { instancePair } from './support/pair.js';
import { gate } from './support/wait.js';

const RESUMES = 40;
const REDIS_DB = 12;

const pair = instancePair(REDIS_DB);
let fake: FakeOpenAI;
let a: Instance;
let b: Instance;
let user: User;
beforeAll(() => {
  ({ fake, a, b, user } = pair);
});

/** Redis connections named after this instance's process. */
async function connectionsOf(instance: Instance): Promise<number> {
  const [list] = await redisCommands(REDIS_DB, ['CLIENT', 'LIST']);
  const name = `name=ai-threads:${hostname()}:${instance.pid} `;
  return String(list)
    .split('\n')
    .filter((line) => line.includes(name)).length;
}

const asApp = (instance: Instance) => ({ url: instance.url }) as TestApp;

describe('resuming on another instance', () => {
  it(`opens one subscriber connection for ${RESUMES} resumes, and every one gets the whole answer`, async () => {
    const thread = await newThread(a, user);
    const first = gate();
    const rest = gate();
    fake.script({ type: 'paced_text', parts: ['One ', first.until, 'two ', rest.until, 'three.'] });
    const body = { content: 'Count to three' };
    const original = await openStream(asApp(a), thread.id, { token: user.token, body });
    const delta = await original.until((event) => event.event === 'response.delta');
    expect(delta.data).toMatchObject({ delta: 'One ' });

    const before = await connectionsOf(b);
    const readers: SseReader[] = [];
    for (let i = 0; i < RESUMES; i += 1) {
      readers.push(await openStream(asApp(b), thread.id, { token: user.token, body, lastEventId: delta.id! }));
    }
    first.open();
    // Every reader on B sees "two " live: each follows the shared log now.
    await Promise.all(readers.map((reader) => reader.until((event) => event.event === 'response.delta')));
    const during = await connectionsOf(b);
    // B's own connection and at most one subscriber, not one per reader.
    expect(before).toBeGreaterThanOrEqual(1);
    expect(during).toBeLessThanOrEqual(2);

    rest.open();
    for (const reader of readers) {
      const events = await reader.all();
      const deltas = events.filter((event) => event.event === 'response.delta').map((event) => event.data.delta);
      expect(deltas.join('')).toBe('two three.');
      expect(events.at(-1)?.event).toBe('response.completed');
    }
    await original.all();
    expect(await connectionsOf(b)).toBeLessThanOrEqual(2);
  });
});
