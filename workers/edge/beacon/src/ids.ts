/**
 * Who and when: random ids, the anonymous visitor id in a first-party cookie (so the
 * shop's own backend can read it, see docs/storefront.md), the customer the shop
 * identified (docs/identity.md), and the session id, new after 30 minutes without an
 * event. Without consent there is no visitor id at all: nothing to store, nothing to send.
 */
import { ANON_PREFIX } from './protocol';
import { read, stores, write } from './storage';

/** 22 URL-safe random characters (128 bits); `getRandomValues` works on plain-http pages too. */
export function rid(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .slice(0, 22)
    .replace(/[+/]/g, (c) => (c == '+' ? '-' : '_'));
}

/** The anonymous visitor id of this browser (cookie `epr_uid`), once known. */
let anon: string | undefined;
/** A `u_…` id of beacon.js before identity, found in the cookie and waiting to be merged (identity.ts). */
let legacy: string | undefined;
/** The legacy id to migrate, if any; `done` once it was merged. */
export const legacyId = (done?: boolean): string | undefined => (done ? (legacy = undefined) : legacy);
/** The customer the shop identified on this page: id and user_hash. */
export let who: [string, string] | undefined;

export const identifyAs = (id: string, hash: string): void => void (who = [id, hash]);

/** Sets (or, with age 0, deletes) the visitor cookie. */
export function cookie(id: string, age: number): void {
  document.cookie = `epr_uid=${id}; Max-Age=${age}; Path=/; SameSite=Lax${location.protocol == 'https:' ? '; Secure' : ''}`;
}

/** A new anonymous id for this browser (after a merge: the old one now points at the customer). */
export function renewAnon(): string {
  cookie((anon = ANON_PREFIX + rid()), 31536000);
  return anon;
}

/** The anonymous visitor id, read from the cookie (renewed for a year) or made on the first visit. */
export function anonId(): string {
  if (!anon) {
    const found = /(?:^|; )epr_uid=([^;]+)/.exec(document.cookie)?.[1];
    if (found?.startsWith(ANON_PREFIX)) cookie((anon = found), 31536000);
    else {
      if (found?.startsWith('u_')) legacy = found;
      renewAnon();
    }
  }
  return anon!;
}

/** Forgets the visitor (consent withdrawn): the cookie is deleted, the next consent starts afresh. */
export function forgetAnon(): void {
  cookie('', 0);
  anon = legacy = undefined;
}

/** The user id events and reads carry: the identified customer, else the anonymous visitor; none without consent. */
export const uid = (): string | undefined => (stores() ? (who?.[0] ?? anonId()) : undefined);

/** Inactivity after which a new session starts (30 minutes). */
const IDLE_MS = 18e5;

/** The current session id, renewed after {@link IDLE_MS} without an event. */
export function sessionId(): string {
  const now = Date.now();
  const [id, last] = (read('epr_s') ?? '').split('.');
  const session = id && now - Number(last) <= IDLE_MS ? id : 's_' + rid();
  write('epr_s', session + '.' + now);
  return session;
}
