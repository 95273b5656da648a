/**
 * The git-ignored `.dev.vars` that `wrangler dev` reads secrets from. Created on first
 * start with a random admin token, so a fresh clone needs no manual step and no secret
 * is ever committed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const DEV_VARS_FILE = '.dev.vars';

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
 * The admin token for scripts talking to the edge: ADMIN_TOKEN from the environment,
 * else from `.dev.vars` (what `wrangler dev` and `npm start` use); null when neither has one.
 */
export function adminTokenFromEnv(file = DEV_VARS_FILE): string | null {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  if (!existsSync(file)) return null;
  return parseDevVars(readFileSync(file, 'utf8')).ADMIN_TOKEN || null;
}

/** Read `.dev.vars`, creating it with a fresh ADMIN_TOKEN if it does not exist or lacks one. */
export function ensureDevVars(file = DEV_VARS_FILE): Record<string, string> {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const vars = parseDevVars(existing);
  if (!vars.ADMIN_TOKEN) {
    vars.ADMIN_TOKEN = randomBytes(24).toString('base64url');
    const header = existing ? '' : '# Local secrets for wrangler dev (git-ignored). Created by npm start.\n';
    writeFileSync(file, `${existing}${existing && !existing.endsWith('\n') ? '\n' : ''}${header}ADMIN_TOKEN=${vars.ADMIN_TOKEN}\n`, {
      mode: 0o600,
    });
  }
  return vars;
}
