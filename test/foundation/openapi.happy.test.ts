// The OpenAPI document served at /api/v1/openapi.json: valid OpenAPI 3.1 (swagger-parser), clean
// under redocly's recommended lint rules, and faithful to the public contract: public parameter
// names, contract success statuses, Laravel-style error bodies.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationsOf, type Json } from '../support/openapi.js';
import { startTestApp, type TestApp } from '../support/harness.js';


let app: TestApp;
let doc: Json;
beforeAll(async () => {
  app = await startTestApp();
  const res = await app.http('GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = res.body;
});
afterAll(async () => {
  await app?.close();
});

const operations = () => operationsOf(doc);

/** Runs `redocly lint` on the document (its recommended rules) and returns its JSON report. */
async function redoclyLint(document: Json) {
  const dir = await mkdtemp(join(tmpdir(), 'ai-threads-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(document));
    const cli = join(dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')), 'bin/cli.js');
    // Exit code 1 means problems were found: the report says which.
    const run = promisify(execFile)(process.execPath, [cli, 'lint', file, '--format=json'], {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const { stdout } = await run.catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    return JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer: string }> }>;
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('has no errors and no warnings under redocly lint', async () => {
    const report = await redoclyLint(doc);
    const problems = report.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
    expect(problems).toEqual([]);
    expect(report.totals.errors).toBe(0);
    expect(report.totals.warnings).toBe(0);
  }, 60_000);

  it('names path parameters as the public paths do: kebab-case, never camelCase', () => {
    for (const { path, operation } of operations()) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      for (const name of inPath) expect(name, path).toMatch(/^[a-z]+(-[a-z]+)*$/);
      const declared = (operation.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name);
      expect(declared.sort(), path).toEqual([...inPath].sort());
    }
  });

  it('documents the auth and API token operations with their success statuses', () => {
    const expected: Array<[string, string, string]> = [
      ['/auth/sign-up', 'post', '201'],
      ['/auth/sign-in', 'post', '200'],
      ['/auth/sign-out', 'post', '204'],
      ['/me', 'get', '200'],
      ['/api-tokens', 'post', '201'],
      ['/api-tokens', 'get', '200'],
      ['/api-tokens/{id}', 'get', '200'],
      ['/api-tokens/{id}', 'delete', '204'],
    ];
    for (const [path, method, status] of expected) {
      const responses = doc.paths[path]?.[method]?.responses as Json | undefined;
      expect(responses, `${method} ${path}`).toBeDefined();
      expect(responses![status], `${method} ${path} ${status}`).toBeDefined();
      if (status !== '200') expect(responses!['200'], `${method} ${path} 200`).toBeUndefined();
    }
    expect(doc.paths['/auth/sign-up'].post.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/SessionResponse',
    });
  });

  it('documents every error answer with ErrorBody, or ValidationErrorBody for 422 and PreconditionFailedBody for 412', () => {
    let seen = 0;
    for (const { path, method, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        if (Number(status) < 400) continue;
        seen += 1;
        const schema = (response as Json).content?.['application/json']?.schema;
        const expected = status === '422' ? 'ValidationErrorBody' : status === '412' ? 'PreconditionFailedBody' : 'ErrorBody';
        expect(schema, `${method} ${path} ${status}`).toEqual({ $ref: `#/components/schemas/${expected}` });
      }
    }
    expect(seen).toBeGreaterThan(0);
    expect(doc.components.schemas.ErrorBody).toMatchObject({ type: 'object', required: ['message'] });
    expect(doc.components.schemas.ValidationErrorBody).toMatchObject({ type: 'object', required: ['message', 'errors'] });
  });

  it('documents the rate-limit headers and Retry-After on 429', () => {
    for (const { path, method, operation } of operations()) {
      const tooMany = operation.responses['429'] as Json | undefined;
      if (!tooMany) continue;
      expect(Object.keys(tooMany.headers ?? {}).sort(), `${method} ${path}`).toEqual(
        expect.arrayContaining(['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining']),
      );
    }
  });

  it('marks authenticated operations with the bearer scheme', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/me'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api-tokens'].post.security).toEqual([{ bearerAuth: [] }]);
  });
});
