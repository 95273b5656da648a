/**
 * Production origin lists stay explicit. The local configuration allows any localhost
 * port (`http://localhost:*`); a deployed region must name its shops' origins one by
 * one, as https, because ALLOWED_ORIGINS is what keeps other sites' pages from writing
 * into its shoppers' state. Checked by the bundle check (`npm test`) and before every
 * deploy, on each region's vars as wrangler resolves them.
 */
/** An explicit https origin: no path, no wildcard. */
const EXPLICIT_HTTPS_ORIGIN = /^https:\/\/[a-z0-9.-]+(:\d{1,5})?$/;

/** What is wrong with a deployed region's ALLOWED_ORIGINS (empty when nothing is). */
export function productionOriginProblems(value: unknown): string[] {
  if (typeof value !== 'string' || value.trim() === '') return ['ALLOWED_ORIGINS is not set: no storefront page could send events'];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .flatMap((entry) =>
      EXPLICIT_HTTPS_ORIGIN.test(entry)
        ? []
        : [`ALLOWED_ORIGINS entry "${entry}" is not an explicit https origin (wildcards are for local development)`],
    );
}

/** The problems of every region's ALLOWED_ORIGINS, as `<region>: <problem>` lines. */
export async function regionOriginProblems(regions: readonly string[], config = 'wrangler.toml'): Promise<string[]> {
  // Loaded on use: wrangler takes seconds to import, which the unit tests of the rule above do not need.
  const { unstable_readConfig } = await import('wrangler');
  return regions.flatMap((env) => {
    const { vars } = unstable_readConfig({ config, env }, { hideWarnings: true });
    return productionOriginProblems(vars.ALLOWED_ORIGINS).map((problem) => `${env}: ${problem}`);
  });
}
