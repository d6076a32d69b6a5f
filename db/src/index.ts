// The db package: schema, client factory and the helpers every repository shares.
export * from './schema/index.js';
export * from './client.js';
export * from './open.js';
