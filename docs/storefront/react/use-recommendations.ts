/**
 * `useRecommendations`: this shopper's recommendations from the edge's JSON API, for a
 * React storefront that renders its own list instead of the HTML widget. beacon.js on
 * the page provides the shopper id and the edge address (`window.epr`, typed by
 * beacon.d.ts).
 */
import { useEffect, useState } from 'react';

/** One recommended item (`GET /v1/recommendations`). */
export interface RecommendedItem {
  item_id: string;
  score: number;
  title: string;
  url: string | null;
  image: string | null;
  price: number | null;
  currency: string | null;
}

/** A recommendation list; report its `rec_id` with impressions and clicks. */
export interface Recommendations {
  rec_id: string;
  model_version: string | null;
  items: RecommendedItem[];
}

/** `window.epr`, once beacon.js has run (it may load after your bundle). */
export function whenEpr(): Promise<Epr.Api> {
  return new Promise((resolve) => {
    if (window.epr) resolve(window.epr);
    else window.addEventListener('epr:ready', () => resolve(window.epr!), { once: true });
  });
}

/** Recommendations for `context` (and the product on screen), or null until they arrive. */
export function useRecommendations(context: 'home' | 'product' | 'cart', itemId?: string, n = 8): Recommendations | null {
  const [recommendations, setRecommendations] = useState<Recommendations | null>(null);
  useEffect(() => {
    const request = new AbortController();
    (async () => {
      const epr = await whenEpr();
      await epr.flush(); // deliver this page's events first: the list then reflects this view
      // Without consent there is no shopper (uid is null): the list is then non-personal.
      const shopper = epr.uid ? { user_id: epr.uid, ...(epr.userHash ? { user_hash: epr.userHash } : {}) } : {};
      const query = new URLSearchParams({ ...shopper, context, n: String(n), ...(itemId ? { item_id: itemId } : {}) });
      const response = await fetch(`${epr.endpoint}/v1/recommendations?${query}`, { signal: request.signal });
      if (response.ok) setRecommendations(await response.json());
    })().catch(() => {}); // offline, or the component went away: keep what is shown
    return () => request.abort();
  }, [context, itemId, n]);
  return recommendations;
}
