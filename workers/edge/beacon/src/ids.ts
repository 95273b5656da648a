/**
 * Who and when: a random id generator, the anonymous shopper id in a first-party cookie
 * (so the shop's own backend can read it, see docs/storefront.md) and the session id,
 * new after 30 minutes without an event.
 */
import { read, write } from './storage';

/** 32 hex characters; `randomUUID` needs a secure context, so plain-http pages get a time+random id. */
export function rid(): string {
  return crypto.randomUUID ? crypto.randomUUID().replace(/-/g, '') : Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
}

/** The shopper id from the `epr_uid` cookie, created on the first visit and renewed for a year on each. */
function cookieUserId(): string {
  const id = /(?:^|; )epr_uid=([^;]+)/.exec(document.cookie)?.[1] ?? 'u_' + rid();
  document.cookie = `epr_uid=${id}; Max-Age=31536000; Path=/; SameSite=Lax${location.protocol == 'https:' ? '; Secure' : ''}`;
  return id;
}

/** This browser's shopper id. */
export const uid = cookieUserId();

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
