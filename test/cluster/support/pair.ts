// Two built instances on one PostgreSQL database and one Redis database, answered by one fake
// model, with a user signed up: the setup of the suites that check what instances share. Call it
// at a suite's top level; it registers its own start and teardown.
import { afterAll, beforeAll } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../fake-openai/server.js';
import { signUp, type User } from './api.js';
import { createClusterDatabase, freshRedisDb, type ClusterDatabase } from './backing.js';
import { startInstance, stopAll, type Instance } from './instances.js';

export interface InstancePair {
  fake: FakeOpenAI;
  database: ClusterDatabase;
  a: Instance;
  b: Instance;
  user: User;
}

/** The pair, filled in before the suite's tests run. */
export function instancePair(redisDb: number): InstancePair {
  const pair = {} as InstancePair;
  beforeAll(async () => {
    pair.fake = await startFakeOpenAI();
    pair.database = await createClusterDatabase();
    const env = {
      DATABASE_URL: pair.database.url,
      REDIS_URL: await freshRedisDb(redisDb),
      OPENAI_BASE_URL: pair.fake.url,
      RATE_LIMIT_REQUESTS_PER_MINUTE: '1000',
      RATE_LIMIT_MESSAGES_PER_MINUTE: '1000',
    };
    [pair.a, pair.b] = await Promise.all([startInstance('A', env), startInstance('B', env)]);
    pair.user = await signUp(pair.a);
  });
  afterAll(async () => {
    await stopAll(pair.a, pair.b);
    await pair.fake?.close();
    await pair.database?.drop();
  });
  return pair;
}
