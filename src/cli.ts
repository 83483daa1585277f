import { buildApp, migrateAll, selectModules } from './app.ts';
import { ConfigError, loadConfig, type Config } from './kernel/config.ts';
import { openConfiguredDatabase } from './kernel/db/database.ts';
import { seedLargeCatalog } from './modules/catalog/seed.ts';

const USAGE = `Usage: bazaar <command>

  start      serve the API and web apps (all modules, or those in MODULES=a,b)
  migrate    run every module's migrations and exit
  seed --products N
             add N generated products (for benchmarks), index them, and exit
  worker     run consumers and jobs only, no HTTP port
`;

async function main(argv: string[]) {
  const command = argv[0] ?? 'start';
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`bazaar: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  switch (command) {
    case 'start':
    case 'worker': {
      const started = Date.now();
      const app = await buildApp({ config });
      if (command === 'start') {
        await app.http.listen({ port: config.PORT, host: config.HOST });
      }
      app.ctx.logger.info({ ms: Date.now() - started, port: command === 'start' ? config.PORT : undefined, database: app.database.kind, bus: app.bus.kind }, `bazaar ${command} ready`);
      const shutdown = async (signal: string) => {
        app.ctx.logger.info({ signal }, 'shutting down');
        const force = setTimeout(() => process.exit(1), 10_000);
        force.unref();
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      return;
    }
    case 'migrate': {
      const database = await openConfiguredDatabase(config);
      await migrateAll(database, selectModules(config));
      await database.close();
      process.stdout.write('migrations applied\n');
      return;
    }
    case 'seed': {
      const flag = argv.indexOf('--products');
      const products = Number(flag >= 0 ? argv[flag + 1] : NaN);
      if (!Number.isInteger(products) || products < 1) {
        process.stderr.write('bazaar: seed needs --products N (a positive integer)\n');
        process.exit(1);
      }
      const app = await buildApp({ config: { ...config, DEMO_DATA: true }, serveWeb: false });
      const result = await seedLargeCatalog(app.ctx, { products });
      // Index everything the seed wrote before exiting, so search sees the whole catalog.
      while ((await app.relay.runOnce()) > 0) {}
      await app.close();
      process.stdout.write(`seeded ${result.products} products (${result.variants} variants) in ${(result.ms / 1000).toFixed(1)} s\n`);
      return;
    }
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`bazaar: unknown command "${command}"\n${USAGE}`);
      process.exit(1);
  }
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`bazaar: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
