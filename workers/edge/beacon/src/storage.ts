/**
 * localStorage that never throws, and stores nothing without consent. Private browsing,
 * storage disabled by the shopper and a full quota all degrade to "nothing stored"
 * instead of breaking the shop's page. Until the shopper consents (consent.ts), values
 * live in this page's memory only and leave nothing behind.
 */

/** Values kept in memory while storing is not allowed. */
let memory: Record<string, string> = {};
let allowed = true;

/** Whether beacon.js may store (and send) anything. */
export const stores = (): boolean => allowed;

/** Allows or forbids storage; forbidding also forgets what this page held in memory. */
export function allowStorage(yes: boolean): void {
  allowed = yes;
  memory = {};
}

/** The stored value, or null when absent or unreadable. */
export function read(key: string): string | null {
  if (!allowed) return memory[key] ?? null;
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Stores the value if the browser (and the shopper) lets us. */
export function write(key: string, value: string): void {
  if (!allowed) {
    memory[key] = value;
    return;
  }
  try {
    localStorage.setItem(key, value);
  } catch {
    // Disabled or full: the page still works, it only forgets across page loads.
  }
}

/** Removes beacon.js's keys from localStorage (consent withdrawn). */
export function erase(keys: string[]): void {
  try {
    for (const key of keys) localStorage.removeItem(key);
  } catch {
    // Nothing stored that we could reach.
  }
}
