// The server package's public surface: build an app, and the router type for typed clients.
export { createApp } from './app.js';
export { createServices, type AppDeps, type Services } from './services.js';
export { loadConfig, configWith, type Config } from './config.js';
export { createLogger } from './logger.js';
export { createMemoryRateLimiter, type RateLimiter } from './rate-limit/limiter.js';
export { openApiDocument } from './openapi/document.js';
export type { AppRouter } from './router.js';
