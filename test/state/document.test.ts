// The OpenAPI document describes the versioned state as the service answers it: the three media
// types of PATCH .../state, the ETag on the answers that carry a version, the If-Match precondition
// where a 412 can come, the 412 body with `current_version`, and the 428. Where a rule is the
// service's behaviour, the service is asked too.
import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.js';
import { operationsOf, type Json } from '../support/openapi.js';
import { createThread, stateApi } from './support.js';

const { app, user } = await harness({ model: 'offline' });
const doc: Json = (await app.http('GET', '/api/v1/openapi.json')).body;

const STATE = '/ai/threads/{thread-id}/state';
const header = (value: Json): Json => (value['$ref'] ? doc.components.headers[String(value['$ref']).replace('#/components/headers/', '')] : value);
const schemaOf = (ref: Json): Json => doc.components.schemas[String(ref['$ref']).replace('#/components/schemas/', '')];
const byId = (id: string) => operationsOf(doc).find(({ operation }) => operation.operationId === id)!.operation;

describe('PATCH .../state', () => {
  const patch = () => doc.paths[STATE].patch;

  it('takes a required body as JSON, as a merge patch or as a JSON Patch', () => {
    const body = patch().requestBody;
    expect(body.required).toBe(true);
    expect(Object.keys(body.content).sort()).toEqual(['application/json', 'application/json-patch+json', 'application/merge-patch+json']);
    expect(body.content['application/merge-patch+json'].schema).toMatchObject({ type: 'object' });
    expect(body.content['application/json-patch+json'].schema).toMatchObject({
      type: 'array',
      maxItems: 1000,
      items: { required: ['op', 'path'], properties: { op: { enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] } } },
    });
    expect(Object.keys(body.content['application/json'].schema.properties).sort()).toEqual(['expected_version', 'json_patch', 'merge_patch']);
  });

  it("each media type's example is taken by the service", async () => {
    const content = patch().requestBody.content;
    for (const [type, example] of [
      ['application/merge-patch+json', content['application/merge-patch+json'].example],
      ['application/json-patch+json', content['application/json-patch+json'].example],
    ] as const) {
      const id = await createThread(app, user, { state: { form: { color: 'red', size: 'M' } } });
      const res = await app.api('PATCH', `/ai/threads/${id}/state`, {
        token: user.token,
        raw: JSON.stringify(example),
        headers: { 'content-type': type, 'if-match': '"1"' },
      });
      expect(res.status, `${type}: ${res.text}`).toBe(200);
    }
    for (const { value } of Object.values(content['application/json'].examples) as Json[]) {
      const thread = await createThread(app, user, { state: { form: { color: 'red' } } });
      const res = await stateApi(app, 'rest', user.token).patch(thread, { ...value, expected_version: 1 });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
  });
});

describe('the ETag', () => {
  it('is a required header of the answers that carry the state version, and of no other success', () => {
    const withEtag = ['threads.state.get', 'threads.state.patch', 'threads.state.revert', 'messages.proposal.accept'];
    for (const { operation } of operationsOf(doc)) {
      const success = Object.entries(operation.responses as Json).find(([status]) => status.startsWith('2'))![1] as Json;
      const etag = success.headers?.['ETag'];
      expect(Boolean(etag), operation.operationId).toBe(withEtag.includes(operation.operationId));
      if (etag) expect(header(etag)).toMatchObject({ required: true, schema: { type: 'string', pattern: '^"(0|[1-9][0-9]*)"$' } });
    }
  });

  it('matches what the service sends', async () => {
    const id = await createThread(app, user, { state: { a: 1 } });
    const etag = (await stateApi(app, 'rest', user.token).get(id)).etag!;
    expect(new RegExp(header(byId('threads.state.get').responses['200'].headers['ETag']).schema.pattern).test(etag)).toBe(true);
  });
});

describe('If-Match', () => {
  const ifMatchOf = (id: string) => (byId(id).parameters as Json[] | undefined)?.find((p) => p.name === 'If-Match');

  it('is documented on every operation that can answer 412, and only there', () => {
    const conditional = operationsOf(doc)
      .filter(({ operation }) => ifMatchOf(operation.operationId))
      .map(({ operation }) => operation.operationId)
      .sort();
    expect(conditional).toEqual(
      expect.arrayContaining(['messages.create', 'messages.proposal.accept', 'messages.stream', 'threads.state.patch', 'threads.state.revert']),
    );
    for (const id of conditional) {
      expect(Object.keys(byId(id).responses), id).toContain('412');
      expect(ifMatchOf(id)).toMatchObject({ in: 'header', required: false, schema: { type: 'string' } });
    }
    for (const { operation } of operationsOf(doc)) {
      if (operation.responses['412']) expect(ifMatchOf(operation.operationId), operation.operationId).toBeDefined();
    }
  });

  it('says it is required (or the expected version) where a 428 can come, optional on the messages', () => {
    for (const id of ['threads.state.patch', 'threads.state.revert', 'messages.proposal.accept']) {
      expect(Object.keys(byId(id).responses)).toContain('428');
      expect(ifMatchOf(id)?.description).toContain('required (428 without either)');
    }
    for (const id of ['messages.create', 'messages.stream']) {
      expect(Object.keys(byId(id).responses)).not.toContain('428');
      expect(ifMatchOf(id)?.description).toContain('Optional');
    }
  });
});

describe('412 and 428', () => {
  it('412: `{message, current_version}` (an integer from 0) with the ETag, on every operation that answers it', () => {
    for (const { operation } of operationsOf(doc)) {
      const response = operation.responses['412'];
      if (!response) continue;
      const schema = schemaOf(response.content['application/json'].schema);
      expect(schema, operation.operationId).toMatchObject({
        type: 'object',
        required: ['message', 'current_version'],
        properties: { message: { type: 'string' }, current_version: { type: 'integer', minimum: 0 } },
      });
      expect(header(response.headers['ETag']).required).toBe(true);
      expect(response.description).toContain('current version');
    }
  });

  it('428 is described, in the ErrorBody shape', () => {
    const response = byId('threads.state.patch').responses['428'];
    expect(response.description).toContain('If-Match');
    expect(schemaOf(response.content['application/json'].schema).required).toEqual(['message']);
  });

  it('the state 409 is described as a change that does not apply, not a busy thread', () => {
    expect(byId('threads.state.patch').responses['409'].description).toContain('does not apply');
    expect(byId('messages.create').responses['409'].description).toContain('Busy');
  });
});
