/**
 * Secrets from files: each secret environment variable NAME has a NAME_FILE
 * twin naming a file that holds it (a Kubernetes Secret mounted as a file,
 * systemd's LoadCredential=, Docker secrets), so that the secret is in
 * neither the environment nor `ps`. The file's text is the secret, without
 * one trailing newline. A file that cannot be read, or is empty, is an
 * error of one line that names the variable and the file, never the
 * secret; so is giving both NAME and NAME_FILE.
 *
 * resolveSecretFiles sets NAME in `env` (process.env by default) from
 * NAME_FILE, so that everything that reads NAME (the Elasticsearch client,
 * in the main thread and in the threads started afterwards, which copy
 * process.env) gets it unchanged.
 */
import { readFileSync } from 'node:fs';

import { SecretFileError } from '../errors.js';

export { SecretFileError };

/** Elasticsearch's credentials (sinks/elasticsearch/client.ts reads them). */
export const ES_SECRETS = ['ES_API_KEY', 'ES_USERNAME', 'ES_PASSWORD'] as const;

/** The secret in `file` for `what` (a variable or flag name): its text less one trailing newline. */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SecretFileError(`${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.trim() === '') throw new SecretFileError(`${what} ${file}: the file is empty`);
  if (/[\r\n]/.test(secret)) throw new SecretFileError(`${what} ${file}: more than one line`);
  return secret;
}

/** For each NAME with a NAME_FILE set: read the file into NAME. Throws SecretFileError (one line). */
export function resolveSecretFiles(names: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  for (const name of names) {
    const file = env[`${name}_FILE`];
    if (!file) continue;
    if (env[name]) throw new SecretFileError(`give ${name} or ${name}_FILE, not both`);
    env[name] = readSecretFile(file, `${name}_FILE`);
  }
}
