/**
 * The git-ignored `.dev.vars` that the local edge reads its secrets from. Created (or
 * completed) on every `npm start` with random values for what is missing, so a fresh
 * clone runs the way production should: an admin token, and identity verification on
 * (IDENTITY_SECRET) with a server-side producer token (INGEST_TOKEN), and signed
 * recommendation ids (REC_TOKEN_SECRET, attribution after an eviction). No secret is ever
 * committed, and a value once written is never replaced (hashes a shop's backend
 * computed with it stay valid).
 *
 * Only `npm start`/`npm run dev` read this file: tests and benchmarks start their edges
 * with the vars they pass (scripts/lib/dev-worker.ts), so what a developer keeps here
 * cannot change a test.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export const DEV_VARS_FILE = '.dev.vars';

/** Secrets `npm start` generates when missing, with their size in random bytes. */
export const GENERATED_SECRETS = {
  ADMIN_TOKEN: 24,
  // docs/identity.md asks for 32 or more random bytes.
  IDENTITY_SECRET: 32,
  INGEST_TOKEN: 24,
  // rec-token.ts needs at least 16 characters; 32 bytes as for IDENTITY_SECRET.
  REC_TOKEN_SECRET: 32,
} as const;

/** A secret `npm start` generates. */
export type GeneratedSecret = keyof typeof GENERATED_SECRETS;

/** Parse KEY=VALUE lines (comments and blanks ignored). */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) vars[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return vars;
}

/**
 * A secret for scripts talking to the edge: `name` from the environment, else from
 * `.dev.vars` (what `npm start` uses); null when neither has one.
 */
export function secretFromEnv(name: string, file = DEV_VARS_FILE): string | null {
  if (process.env[name]) return process.env[name];
  if (!existsSync(file)) return null;
  return parseDevVars(readFileSync(file, 'utf8'))[name] || null;
}

/** The admin token: ADMIN_TOKEN from the environment, else from `.dev.vars`; null when neither has one. */
export function adminTokenFromEnv(file = DEV_VARS_FILE): string | null {
  return secretFromEnv('ADMIN_TOKEN', file);
}

/** What {@link ensureDevVars} found and did. */
export interface DevVars {
  vars: Record<string, string>;
  /** The secrets it generated now (empty when the file had them all). */
  generated: GeneratedSecret[];
}

/**
 * Read `.dev.vars`, adding a random value for each of {@link GENERATED_SECRETS} that is
 * missing (creating the file if needed; an empty ADMIN_TOKEN counts as missing). Existing lines are kept as they are;
 * the file is readable by its owner only.
 */
export function ensureDevVars(file = DEV_VARS_FILE): DevVars {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const vars = parseDevVars(existing);
  // An empty IDENTITY_SECRET= or INGEST_TOKEN= line is a choice (verification off), kept;
  // the admin token is needed by npm start itself.
  const generated = (Object.keys(GENERATED_SECRETS) as GeneratedSecret[]).filter((name) =>
    name === 'ADMIN_TOKEN' ? !vars[name] : !(name in vars),
  );
  if (generated.length > 0) {
    let text = existing;
    if (text && !text.endsWith('\n')) text += '\n';
    if (!text) text = '# Local secrets for the edge (git-ignored). Created by npm start; production uses wrangler secrets.\n';
    for (const name of generated) {
      vars[name] = randomBytes(GENERATED_SECRETS[name]).toString('base64url');
      // An empty `NAME=` line (as in .dev.vars.example) is filled in place, not repeated.
      const empty = new RegExp(`^\\s*${name}\\s*=\\s*(""|)\\s*$`, 'm');
      text = empty.test(text) ? text.replace(empty, `${name}=${vars[name]}`) : `${text}${name}=${vars[name]}\n`;
    }
    writeFileSync(file, text, { mode: 0o600 });
  }
  // writeFileSync's mode applies only when it creates the file.
  if (existsSync(file)) chmodSync(file, 0o600);
  return { vars, generated };
}

/** How to set the generated secrets in production, for `npm start` to print. */
export function productionSecretsHint(names: readonly string[] = Object.keys(GENERATED_SECRETS)): string {
  return [
    'In production set your own values (never these local ones), per region:',
    ...names.map((name) => `  npx wrangler secret put ${name} --env <region>`),
    'IDENTITY_SECRET is the key your backend computes user_hash with (docs/identity.md).',
  ].join('\n');
}
