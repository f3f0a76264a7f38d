#!/usr/bin/env node
/**
 * spillway [all|edge|beat|rxtx] [flags]: parse the configuration, start the
 * daemon, stop it on SIGTERM/SIGINT (a second signal exits at once).
 * Start-up errors are one line on stderr and exit code 2. Also: spillway top
 * URL..., spillway help [MODE], spillway MODE --help, spillway --version.
 */
import pino from 'pino';
import { ConfigError, parseConfig, printableConfig } from '../config/parse.js';
import { fullHelp, helpFor, modeHelp, versionText } from './help.js';
import { startDaemon } from './daemon.js';
import { startProfiles } from './profile.js';

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
  const args = process.argv.slice(2);
  if (args[0] === 'top') {
    // A terminal view of running daemons (src/cli/top.ts); no daemon.
    process.exitCode = await (await import('./top.js')).runTop(args.slice(1));
    return;
  }
  if (args.includes('--version') || args[0] === 'version') {
    process.stdout.write(versionText() + '\n');
    return;
  }
  if (args[0] === 'help') {
    const text = helpFor(args[1]);
    if (text === undefined) die(`help: unknown mode "${args[1]}" (expected one of all, edge, beat, rxtx)`);
    process.stdout.write(text + '\n');
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
    process.stdout.write((args[0] && !args[0].startsWith('-') ? modeHelp(parsed.mode) : fullHelp()) + '\n');
    return;
  }
  if (parsed.printConfig) {
    process.stdout.write(printableConfig(parsed) + '\n');
    return;
  }
  const { config } = parsed;
  const log = pino({ level: config.logLevel, base: { service: config.name, role: config.role } });
  for (const w of parsed.warnings) log.warn(w);
  // Credentials from a beat YAML reach the Elasticsearch client as its ES_* variables; set ones win.
  const cred = parsed.credentials;
  const setEnv = (name: string, value: string | undefined) => {
    if (value !== undefined && !process.env[name]) process.env[name] = value;
  };
  if (!process.env.ES_API_KEY && !process.env.ES_USERNAME) {
    setEnv('ES_API_KEY', cred.apiKey);
    setEnv('ES_USERNAME', cred.username);
    setEnv('ES_PASSWORD', cred.password);
  }
  setEnv('ES_CA_CERT', cred.caCert);

  let profiles;
  let daemon;
  try {
    profiles = await startProfiles(config.cpuprofile, config.memprofile);
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
      async () => {
        if (profiles) await profiles.finish().catch((e: Error) => log.error({ err: e }, 'cannot write the profiles'));
        process.exit(0);
      },
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
