/**
 * Edge enrichment: what the edge knows and the client must not be trusted with
 * (receipt time, location from `request.cf`, device class from the User-Agent).
 */
import { SCHEMA_VERSION, type Enrichment } from '../../../shared/schema/events';

type Device = Enrichment['device'];

const BOT = /bot|crawl|spider|slurp|headless|lighthouse|preview|fetch|curl|wget|python-requests|httpclient/i;
const TABLET = /ipad|tablet|kindle|silk|playbook|(android(?!.*mobile))/i;
const MOBILE = /mobi|iphone|ipod|android.*mobile|windows phone|blackberry|opera mini/i;

/** Device class from a User-Agent; bots first, since many bots claim to be phones. */
export function deviceFromUserAgent(userAgent: string | null): Device {
  if (!userAgent) return 'unknown';
  if (BOT.test(userAgent)) return 'bot';
  if (TABLET.test(userAgent)) return 'tablet';
  if (MOBILE.test(userAgent)) return 'mobile';
  return 'desktop';
}

const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/** The enrichment shared by every event of one request. */
export function enrichmentFor(request: Request, edgeRegion: string, receivedAt: number): Enrichment {
  const cf = request.cf;
  return {
    schema_version: SCHEMA_VERSION,
    received_at: receivedAt,
    geo: {
      country: str(cf?.country),
      colo: str(cf?.colo),
      region: str(cf?.regionCode) ?? str(cf?.region),
      continent: str(cf?.continent),
    },
    edge_region: edgeRegion,
    device: deviceFromUserAgent(request.headers.get('user-agent')),
  };
}
