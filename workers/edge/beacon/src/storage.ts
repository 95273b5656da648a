/**
 * localStorage that never throws: private browsing, storage disabled by the shopper and
 * a full quota all degrade to "nothing stored" instead of breaking the shop's page.
 */

/** The stored value, or null when absent or unreadable. */
export function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Stores the value if the browser lets us. */
export function write(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Disabled or full: the page still works, it only forgets across page loads.
  }
}
