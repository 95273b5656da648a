/**
 * Logins (docs/identity.md). The shop tells beacon.js who is logged in, with the
 * customer id and its user_hash computed by the shop's backend: `epr.identify(id, hash)`
 * or `data-user-id` / `data-user-hash` on the script tag. If this browser browsed
 * anonymously before, `POST /v1/identify` merges that visitor into the customer at the
 * edge (history, profile, session), so the next recommendation already reflects it, and
 * the browser gets a fresh anonymous id: the merged one now points at the customer, and
 * whoever browses after a logout must not add to the customer's profile. A `u_…` id of
 * beacon.js before identity is merged the same way, into the customer or the new
 * anonymous id.
 */
import { anonId, identifyAs, legacyId, renewAnon, who } from './ids';
import { ANON_USED } from './queue';
import { read, stores, write } from './storage';
import { option, postTo } from './transport';

/** Merges `from` into `to` at the edge; true once the edge answered for good (merged, or refused with a reason). */
async function link(from: string, to: string, hash?: string): Promise<boolean> {
  try {
    return (await postTo('/v1/identify', JSON.stringify({ anonymous_id: from, user_id: to, user_hash: hash }))).status < 500;
  } catch {
    return false; // offline: the next page (or identify call) tries again
  }
}

/** Merges what this browser did anonymously into whom it is now; nothing without consent or without anything to merge. */
export async function settle(): Promise<void> {
  if (!stores()) return;
  const anon = anonId();
  const legacy = legacyId();
  if (legacy && (await link(legacy, who?.[0] ?? anon, who?.[1]))) legacyId(true);
  if (who && read(ANON_USED) == anon && (await link(anon, ...who))) {
    renewAnon();
    write(ANON_USED, '');
  }
}

/** `epr.identify`: the shopper is this customer from now on (the shop calls it after a login, or on every page). */
export function identify(id: string, hash: string): Promise<void> {
  identifyAs(id, hash);
  return settle();
}

// The customer the page was rendered for, if the shop put it on the script tag.
const id = option('user-id');
if (id) identifyAs(id, option('user-hash') ?? '');
