// Streams that lose their client: a disconnect does not stop the answer (it is stored whole), and
// a reconnect with the same request and `Last-Event-ID` gets exactly the events it missed, while
// the answer runs or after it has finished. Bad or foreign event ids are refused as JSON.
import { beforeAll, describe, expect, it } from 'vitest';
import { harness, type TestApp } from '../support/harness.js';
import { deltasOf, openStream, pollMessage, readDeltas, refusedStream, sequenceOf } from '../support/sse.js';
import { expectStoresNothing, FULL, gate, listAll, newThread, scriptHeld, sendMessage } from '../support/threads.js';

const { app, fake, user, startApp } = await harness();


describe('a client that disconnects', () => {
  it('does not stop the answer: the whole reply is stored', async () => {
    const thread = await newThread(app, user);
    const held = scriptHeld(fake, 1);
    const stream = await openStream(app, thread.id, { token: user.token, body: { content: 'Count to four' } });
    const created = (await stream.next())!.data;
    expect((await readDeltas(stream, 1)).data).toEqual({ type: 'response.delta', delta: 'One ' });
    stream.abort();
    held.open();

    const asked = await pollMessage(app, user.token, thread.id, created.id);
    expect(asked.status).toBe('completed');
    const messages = await listAll(app, user, thread.id);
    expect(messages.map((m) => [m.role, m.status, m.content])).toEqual([
      ['user', 'completed', 'Count to four'],
      ['assistant', 'completed', FULL],
    ]);
    expect(messages[1]!.time_to_first_token_ms).toEqual(expect.any(Number));
  });
});

describe('a reconnect with Last-Event-ID', () => {
  it('resumes a running answer without loss or duplication', async () => {
    const thread = await newThread(app, user);
    const body = { content: 'Count to four' };
    const held = scriptHeld(fake, 2);
    const first = await openStream(app, thread.id, { token: user.token, body });
    const lastSeen = await readDeltas(first, 2);
    first.abort();
    const before = first.events;

    const calls = fake.requests.length;
    const second = await openStream(app, thread.id, { token: user.token, body, lastEventId: lastSeen.id! });
    held.open();
    const after = await second.all();

    expect(fake.requests.length).toBe(calls);
    expect(after.map((event) => event.event)).toEqual(['response.delta', 'response.delta', 'response.completed']);
    expect(sequenceOf(after[0]!.id)).toBe(sequenceOf(lastSeen.id) + 1);
    const ids = [...before, ...after].map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.map(sequenceOf)).toEqual(ids.map((_, index) => index));
    expect(deltasOf([...before, ...after]).join('')).toBe(FULL);
    expect(after.at(-1)!.data.responseMessage.content).toBe(FULL);
    expect((await listAll(app, user, thread.id)).map((m) => m.content)).toEqual(['Count to four', FULL]);
  });

  it('gets the events sent while it was away', async () => {
    const thread = await newThread(app, user);
    const body = { content: 'Count to four' };
    const held = scriptHeld(fake, 1);
    const first = await openStream(app, thread.id, { token: user.token, body });
    const created = (await first.next())!.data;
    const lastSeen = await readDeltas(first, 1);
    first.abort();
    held.open();
    await pollMessage(app, user.token, thread.id, created.id);

    const second = await openStream(app, thread.id, { token: user.token, body, lastEventId: lastSeen.id! });
    const after = await second.all();
    expect(after.map((event) => event.event)).toEqual([
      'response.delta',
      'response.delta',
      'response.delta',
      'response.completed',
    ]);
    expect(deltasOf([...first.events, ...after]).join('')).toBe(FULL);
    const ids = [...first.events, ...after].map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('after the answer finished, from the last delta: only response.completed', async () => {
    const thread = await newThread(app, user);
    const body = { content: 'Say hi' };
    fake.script({ type: 'text', content: 'Hi there.' });
    const events = await (await openStream(app, thread.id, { token: user.token, body })).all();
    const lastDelta = events.filter((event) => event.event === 'response.delta').at(-1)!;

    const again = await expectStoresNothing(app, async () =>
      (await openStream(app, thread.id, { token: user.token, body, lastEventId: lastDelta.id! })).all(),
    );
    expect(again).toEqual([events.at(-1)]);

    const fromStart = await (await openStream(app, thread.id, { token: user.token, body, lastEventId: events[0]!.id! })).all();
    expect(fromStart).toEqual(events.slice(1));

    const atEnd = await (await openStream(app, thread.id, { token: user.token, body, lastEventId: events.at(-1)!.id! })).all();
    expect(atEnd).toEqual([]);
  });

  it('for an answer this instance did not stream, reads the outcome from the database', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Not streamed.' });
    const { createdMessage, responseMessage } = await sendMessage(app, user, thread.id, { content: 'Plain' });
    const events = await (
      await openStream(app, thread.id, { token: user.token, body: { content: 'Plain' }, lastEventId: `${createdMessage.id}:0` })
    ).all();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      id: `${createdMessage.id}:done`,
      event: 'response.completed',
      data: { createdMessage, responseMessage },
    });
  });

  it.each(['garbage', '12', ':3', '12:-1', '12:3:4', '1 2:3'])('refuses the malformed Last-Event-ID %j with 422', async (lastEventId) => {
    const thread = await newThread(app, user);
    const res = await expectStoresNothing(app, () =>
      refusedStream(app, thread.id, { token: user.token, body: { content: 'hi' }, lastEventId }),
    );
    expect(res.status).toBe(422);
    expect(res.body).toStrictEqual({
      message: 'The Last-Event-ID must be an event id this stream sent.',
      errors: { last_event_id: ['The Last-Event-ID must be an event id this stream sent.'] },
    });
  });

  it('refuses a Last-Event-ID over 64 characters with 422', async () => {
    const thread = await newThread(app, user);
    const res = await expectStoresNothing(app, () =>
      refusedStream(app, thread.id, { token: user.token, body: { content: 'hi' }, lastEventId: `1:${'1'.repeat(70)}` }),
    );
    // Named as the format error is: a REST client sent a header, not a body field.
    const message = 'The last event id field must not be greater than 64 characters.';
    expect({ status: res.status, body: res.body }).toStrictEqual({
      status: 422,
      body: { message, errors: { last_event_id: [message] } },
    });
  });

  it("refuses another user's event id with 404", async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Mine.' });
    const events = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Mine' } })).all();
    const id = events[1]!.id!;

    const other = await app.signUp();
    const theirs = await newThread(app, other);
    const onTheirs = await expectStoresNothing(app, () =>
      refusedStream(app, theirs.id, { token: other.token, body: { content: 'Mine' }, lastEventId: id }),
    );
    expect({ status: onTheirs.status, body: onTheirs.body }).toStrictEqual({
      status: 404,
      body: { message: 'No stream has this event id.' },
    });
    const onMine = await expectStoresNothing(app, () =>
      refusedStream(app, thread.id, { token: other.token, body: { content: 'Mine' }, lastEventId: id }),
    );
    expect({ status: onMine.status, body: onMine.body }).toStrictEqual({ status: 404, body: { message: 'Thread not found.' } });
  });

  it('refuses the id of an assistant message, or of no message, with 404', async () => {
    const thread = await newThread(app, user);
    fake.script({ type: 'text', content: 'Answer.' });
    const events = await (await openStream(app, thread.id, { token: user.token, body: { content: 'Ask' } })).all();
    const replyId = events.at(-1)!.data.responseMessage.id;
    for (const lastEventId of [`${replyId}:0`, '987654321:0']) {
      const res = await refusedStream(app, thread.id, { token: user.token, body: { content: 'Ask' }, lastEventId });
      expect({ status: res.status, body: res.body }).toStrictEqual({ status: 404, body: { message: 'No stream has this event id.' } });
    }
  });
});

describe('a reconnect under a spent message budget', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startApp({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '1' } });
  });

  it('still resumes: a reconnect creates nothing, so it counts as an ordinary request', async () => {
    const owner = await limited.signUp();
    const thread = await newThread(limited, owner);
    const body = { content: 'Say hi' };
    fake.script({ type: 'text', content: 'Hi there.' });
    const events = await (await openStream(limited, thread.id, { token: owner.token, body })).all();
    expect(events.at(-1)!.event).toBe('response.completed');

    // The one message of this minute is spent: a new message is refused...
    expect((await refusedStream(limited, thread.id, { token: owner.token, body: { content: 'Again' } })).status).toBe(429);
    // ...but following the answer already made is not.
    const again = await (await openStream(limited, thread.id, { token: owner.token, body, lastEventId: events[0]!.id! })).all();
    expect(again).toEqual(events.slice(1));
  });
});
