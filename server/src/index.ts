// The server package's public surface: what embeds or tests the service (build the app and its
// services, serve it over HTTP, configuration, logger, rate limiters), and the router type for
// typed clients. Tests import from here (`@ai-threads/server`), not from the files behind it.
export { createApp } from './app.js';
export { createServices, type AppDeps, type Services } from './services.js';
export { loadConfig, configWith, ConfigError, type Config } from './config.js';
export { createHttpServer } from './http/server.js';
export { createLogger, type Logger } from './logger.js';
export { createMemoryRateLimiter, type RateLimiter } from './rate-limit/limiter.js';
export { createRedisRateLimiter } from './rate-limit/redis.js';
export { openApiDocument } from './openapi/document.js';
export type { AppRouter } from './router.js';
