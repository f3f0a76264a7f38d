#!/usr/bin/env node
/**
 * spillway [all|edge|beat] [flags]: parse the configuration, start the
 * daemon, stop it on SIGTERM/SIGINT (a second signal exits at once).
 * Start-up errors are one line on stderr and exit code 2.
 */
import pino from 'pino';
import { ConfigError, helpText, parseConfig } from '../config/parse.js';
import { startDaemon } from './daemon.js';

function die(message: string): never {
  process.stderr.write(`spillway: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  if (process.argv[2] === 'canary') {
    // One end-to-end check of a running pipeline (src/cli/canary.ts); no daemon.
    process.exitCode = await (await import('./canary.js')).runCanary(process.argv.slice(3));
    return;
  }
  let parsed;
  try {
    parsed = parseConfig(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) die(e.message);
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(helpText() + '\n');
    return;
  }
  const { config } = parsed;
  const log = pino({ level: config.logLevel, base: { service: config.name, role: config.role } });

  let daemon;
  try {
    daemon = await startDaemon(config, log);
  } catch (e) {
    die((e as Error).message);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      log.error('graceful stop took too long: exiting');
      process.exit(1);
    }, config.shutdownTimeout * 1000);
    force.unref();
    daemon.close().then(
      () => process.exit(0),
      (e: Error) => {
        log.error({ err: e }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: Error) => die(e.stack ?? e.message));
