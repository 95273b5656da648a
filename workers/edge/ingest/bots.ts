/**
 * Known bots: requests whose events must not move a shopper's profile, recommendations
 * or regional trending. Such events are not dropped: they take the bad-events path
 * (the user object's outbox, then `events.invalid`) with the reason, so an analyst can
 * still count them, the way Snowplow keeps its bad rows.
 *
 * A request is a known bot when Cloudflare says so (`cf.botManagement.verifiedBot`, or
 * a `cf.verifiedBotCategory`, present with Bot Management) or when its User-Agent
 * declares a crawler, preview fetcher or monitor (Googlebot, bingbot, facebookexternalhit,
 * GPTBot, Lighthouse, UptimeRobot…). Deliberately not bots: HTTP client libraries (curl,
 * Node's fetch, python-requests: a shop's backend sends purchases with them, see
 * docs/storefront.md) and headless browsers (a shop's own end-to-end tests); general
 * bot lists such as `isbot` flag all of those, which is why this list is our own.
 */

/** Declared crawlers, link-preview fetchers, SEO/AI crawlers and page monitors. */
const KNOWN_BOT_USER_AGENT = new RegExp(
  [
    // "…bot" tokens (Googlebot/2.1, bingbot, AhrefsBot, Applebot…) but not the Cubot phone brand.
    '(?<!cu)bot\\b',
    'crawl',
    'spider',
    'slurp',
    'mediapartners-google',
    'adsbot',
    'google-inspectiontool',
    'facebookexternalhit',
    'facebookcatalog',
    'embedly',
    'bingpreview',
    'yandex(?:bot|images|metrika)',
    'baiduspider',
    'bytespider',
    'petalbot',
    'semrush',
    'ahrefs',
    'ia_archiver',
    'chrome-lighthouse',
    'pagespeed',
    'gtmetrix',
    'pingdom',
    'uptimerobot',
    'statuscake',
    'site24x7',
    'gptbot',
    'chatgpt-user',
    'perplexity',
    'ccbot',
  ].join('|'),
  'i',
);

/** Why `userAgent` is a known bot, or null. */
export function botUserAgent(userAgent: string | null | undefined): string | null {
  if (!userAgent) return null;
  const match = KNOWN_BOT_USER_AGENT.exec(userAgent);
  return match ? `User-Agent declares a bot (${match[0]})` : null;
}

/** The bot signals of `request.cf` (only present behind Cloudflare, with Bot Management). */
export function botCloudflare(cf: Record<string, unknown> | undefined): string | null {
  const management = cf?.botManagement as { verifiedBot?: unknown } | undefined;
  const category = cf?.verifiedBotCategory;
  if (typeof category === 'string' && category.length > 0) return `verified bot (${category.slice(0, 64)})`;
  if (management?.verifiedBot === true) return 'verified bot';
  return null;
}

/** Why the request comes from a known bot, or null for everyone else. */
export function knownBot(request: Request): string | null {
  return botCloudflare(request.cf as Record<string, unknown> | undefined) ?? botUserAgent(request.headers.get('user-agent'));
}
