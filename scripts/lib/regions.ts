/** The deployable regions: the `[env.<region>]` sections of wrangler.toml. */
import { readFileSync } from 'node:fs';

/** Region names found in wrangler.toml, in file order. */
export function regionsOf(wranglerToml = 'wrangler.toml'): string[] {
  const text = readFileSync(wranglerToml, 'utf8');
  return [...text.matchAll(/^\[env\.([a-z0-9-]+)\]\s*$/gm)].map((match) => match[1]!);
}
