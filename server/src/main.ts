// The process entry point: read the environment, build the services, listen on PORT, and shut
// down cleanly on SIGTERM/SIGINT. The only file that touches process.env or listens.
import { createApp } from './app.js';
import { bootServices } from './bootstrap.js';
import { ConfigError, loadConfig } from './config.js';

async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const services = await bootServices(config);
  const app = createApp(services);
  const server = app.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    services.logger.info(
      { port, database: services.database.driver, ai: config.OPENAI_API_KEY ? config.AI_MODEL : 'offline' },
      `ai-threads listening on http://localhost:${port}`,
    );
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    services.logger.info({ signal }, 'shutting down');
    server.close(() => {
      services.database.close().finally(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 30_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`ai-threads failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
