/**
 * The listener's security, built with its app: TLS (SSLApp or App), the
 * token tables of /rx* and /in, the rate limiter, the CORS policy, and
 * SIGHUP, which rereads the token files (a bad file keeps the tables in
 * force and logs why) and checks the certificate files (a new certificate
 * takes a restart: security/tls.ts). Routes find it with securityOf(app),
 * so the wiring in cli/daemon.ts is the one call that creates the app.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type * as UWS from 'uWebSockets.js';
import type { Config } from '../config/options.js';
import { CorsPolicy } from './cors.js';
import { IntakeGuard, type RefusalReason } from './guard.js';
import { RateLimiter } from './rate.js';
import { checkTlsFiles, createTlsApp } from './tls.js';
import { ingestUrls, linkOptions } from './link.js';
import { TokenTable } from './tokens.js';

export interface Security {
  tls: boolean;
  /** Guard of /rx*: undefined when neither --auth-tokens nor --rate-limit is set. */
  rx: IntakeGuard | undefined;
  /** Guard of /in: undefined without --in-auth-tokens. */
  in: IntakeGuard | undefined;
  cors: CorsPolicy;
  /** Count one refusal of the intake (front/intake.ts REFUSALS) by route and reason. */
  countRefusal(route: 'rx' | 'in', reason: string): void;
  /** The preflight differs from rxtx's fixed one (an origin list, or Authorization allowed). */
  customPreflight: boolean;
  reload(): void;
  close(): void;
}

const byApp = new WeakMap<UWS.TemplatedApp, Security>();

export function securityOf(app: UWS.TemplatedApp): Security | undefined {
  return byApp.get(app);
}

/**
 * The app of --ops-port (/metrics, /stats, /healthz, /readyz off the public
 * port), with the same TLS as the main listener. Undefined without --ops-port.
 */
export function createOpsApp(uws: typeof UWS, config: Config): UWS.TemplatedApp | undefined {
  if (config.opsPort === 0) return undefined;
  if (config.opsPort > 65535) throw new Error(`--ops-port: ${config.opsPort} is above 65535`);
  if (config.opsPort === config.port) throw new Error(`--ops-port ${config.opsPort} is --port: give it a port of its own, or 0`);
  return createTlsApp(uws, config).app;
}

/**
 * Create the listener's app with its security. Throws a one-line error
 * (TlsFileError, TokenFileError) for a bad certificate or token file.
 */
export function createApp(uws: typeof UWS, config: Config, log: Logger, registry: Registry): UWS.TemplatedApp {
  const rxTokens = config.authTokens ? TokenTable.load(config.authTokens, '--auth-tokens') : undefined;
  const inTokens = config.inAuthTokens ? TokenTable.load(config.inAuthTokens, '--in-auth-tokens') : undefined;
  // Edge: the stage link's files are read here first, so that a bad one exits 2 before any thread starts.
  const link = config.role === 'edge' ? linkOptions(config) : undefined;
  if (link?.authorization && ingestUrls(config.ingest).some((u) => new URL(u).protocol === 'http:')) {
    log.warn('--ingest is plain http: the credentials sent to the stage cross the network readable (use https://)');
  }
  const { app, tls } = createTlsApp(uws, config);

  const refused = new Counter({
    name: 'spillway_security_refused_requests',
    help: 'Requests refused before their body was read, by route and reason (auth: 401, forbidden: 403, rate: 429)',
    labelNames: ['route', 'reason'],
    registers: [registry],
  });
  const counter = (route: string) => (reason: RefusalReason) => refused.inc({ route, reason });
  const intakeRefused = new Counter({
    name: 'spillway_intake_refused_requests',
    help: 'Requests refused by /rx* and /in, by route and reason (every reason of front/intake.ts REFUSALS)',
    labelNames: ['route', 'reason'],
    registers: [registry],
  });
  const limiter = config.rateLimit > 0 ? new RateLimiter(config.rateLimit, config.rateBurst) : undefined;
  const rx = rxTokens || limiter ? new IntakeGuard('rx', rxTokens, limiter, counter('rx')) : undefined;
  const inGuard = inTokens ? new IntakeGuard('in', inTokens, undefined, counter('in')) : undefined;
  const cors = new CorsPolicy(config.corsOrigins, rxTokens !== undefined);

  if (tls) {
    log.info({ cert: config.tlsCert, subject: tls.cert.subject.replace(/\n/g, ', '), validTo: tls.cert.validTo, clientCa: config.tlsCa || undefined }, 'TLS on');
    if (tls.daysLeft < 0) log.error({ validTo: tls.cert.validTo }, 'the --tls-cert certificate has expired');
    else if (tls.daysLeft < 14) log.warn({ validTo: tls.cert.validTo }, 'the --tls-cert certificate expires within 14 days');
  }
  const open = [
    config.role !== 'beat' && !rxTokens ? '/rx*' : undefined,
    config.role === 'beat' && !inTokens ? '/in' : undefined,
  ].filter(Boolean);
  if (open.length > 0) {
    log.warn(`no ${config.role === 'beat' ? '--in-auth-tokens' : '--auth-tokens'}: ${open.join(' ')} accepts anyone who can reach port ${config.port}${tls ? '' : ' over plain HTTP'} (docs/security.md)`);
  } else {
    log.info({ rxTokens: rxTokens?.size, inTokens: inTokens?.size, rateLimit: config.rateLimit || undefined }, 'bearer tokens required');
  }
  for (const [table, flag] of [[rxTokens, '--auth-tokens'], [inTokens, '--in-auth-tokens']] as const) {
    if (table?.size === 0) log.warn(`${flag} lists no token: every request is refused (401) until the file has tokens and SIGHUP rereads it`);
  }

  const reload = () => {
    const again = (guard: IntakeGuard | undefined, file: string, flag: string) => {
      if (!guard || !file) return;
      try {
        guard.tokens = TokenTable.load(file, flag);
        log.info({ file, tokens: guard.tokens.size }, 'SIGHUP: tokens reloaded');
      } catch (e) {
        log.error({ reason: (e as Error).message }, 'SIGHUP: token file not reloaded; the previous tokens stay in force');
      }
    };
    again(rx?.tokens ? rx : undefined, config.authTokens, '--auth-tokens');
    again(inGuard, config.inAuthTokens, '--in-auth-tokens');
    if (tls) {
      try {
        const now = checkTlsFiles(config);
        if (now && now.cert.fingerprint256 !== tls.cert.fingerprint256) {
          log.warn('SIGHUP: --tls-cert holds a new certificate; it is served after a restart (uWebSockets.js cannot swap it in place)');
        }
      } catch (e) {
        log.error({ reason: (e as Error).message }, 'SIGHUP: the TLS files are not usable; a restart would fail');
      }
    }
  };
  const onHup = () => reload();
  process.on('SIGHUP', onHup);

  const security: Security = {
    tls: tls !== undefined,
    rx,
    in: inGuard,
    cors,
    countRefusal: (route, reason) => intakeRefused.inc({ route, reason }),
    customPreflight: !cors.any || rxTokens !== undefined,
    reload,
    close() {
      process.off('SIGHUP', onHup);
      limiter?.close();
    },
  };
  byApp.set(app, security);
  return app;
}
