import { describe, expect, it } from 'vitest';
import { deviceFromUserAgent, enrichmentFor } from './enrich';

/** Real User-Agent strings (as browsers and crawlers send them) and the class the edge records. */
const AGENTS: Array<[string, string, ReturnType<typeof deviceFromUserAgent>]> = [
  [
    'Chrome, Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    'desktop',
  ],
  [
    'Safari, macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    'desktop',
  ],
  ['Firefox, Linux', 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'desktop'],
  [
    'Safari, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    'mobile',
  ],
  [
    'Chrome, Android phone',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
    'mobile',
  ],
  [
    'Samsung Internet, phone',
    'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
    'mobile',
  ],
  ['Opera Mini', 'Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) Presto/2.5.25 Version/10.54', 'mobile'],
  [
    'Windows Phone',
    'Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; NOKIA; Lumia 920)',
    'mobile',
  ],
  [
    'Safari, iPad (iPadOS 12)',
    'Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1',
    'tablet',
  ],
  [
    'Chrome, Android tablet (no "Mobile")',
    'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
    'tablet',
  ],
  [
    'Silk, Kindle Fire',
    'Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/126.3.1 like Chrome/126.0.6478.71 Safari/537.36',
    'tablet',
  ],
  // iPadOS 13+ asks for the desktop site by default: its User-Agent is the Mac's.
  [
    'Safari, iPad (iPadOS 17, desktop mode)',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    'desktop',
  ],
  // Bots first: many claim to be phones.
  [
    'Googlebot smartphone',
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
    'bot',
  ],
  ['Bingbot', 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'bot'],
  ['Yahoo Slurp', 'Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)', 'bot'],
  [
    'Headless Chrome',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36',
    'bot',
  ],
  [
    'Lighthouse',
    'Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse',
    'bot',
  ],
  ['link preview', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php) Slack-LinkExpanding 1.0 preview', 'bot'],
  ['curl', 'curl/8.5.0', 'bot'],
  ['python-requests', 'python-requests/2.32.3', 'bot'],
  ['Wget', 'Wget/1.21.4', 'bot'],
  ['unknown string', 'MyShopApp/3.2', 'desktop'],
];

describe('deviceFromUserAgent', () => {
  it.each(AGENTS)('%s → %s', (_name, userAgent, device) => {
    expect(deviceFromUserAgent(userAgent)).toBe(device);
  });

  it('is unknown without a User-Agent', () => {
    expect(deviceFromUserAgent(null)).toBe('unknown');
    expect(deviceFromUserAgent('')).toBe('unknown');
  });
});

describe('enrichmentFor', () => {
  it('takes the device from the request and geo from request.cf, null where absent', () => {
    const request = new Request('https://edge.test/v1/events', { headers: { 'user-agent': AGENTS[3]![1] } });
    Object.defineProperty(request, 'cf', { value: { country: 'DE', colo: 'FRA', regionCode: 'HE', continent: '' } });
    expect(enrichmentFor(request, 'eu', 123)).toEqual({
      schema_version: 1,
      received_at: 123,
      geo: { country: 'DE', colo: 'FRA', region: 'HE', continent: null },
      edge_region: 'eu',
      device: 'mobile',
    });
    const bare = enrichmentFor(new Request('https://edge.test/'), 'us', 5);
    expect(bare).toMatchObject({ geo: { country: null, colo: null, region: null, continent: null }, device: 'unknown' });
  });
});
