/**
 * HTML escaping for everything the widget and demo put on a page. Catalog titles and
 * URLs come from data feeds, not from us: treat them as hostile.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escape text for element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (ch) => ENTITIES[ch]!);
}

/**
 * A URL safe to put in href/src: http(s) absolute, or root-relative; anything else
 * (javascript:, data:, protocol-relative, backslashes or control characters) becomes null.
 */
export function safeUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  const url = value.trim();
  // Browsers read "\" as "/" and drop tabs and newlines in URLs, so "/\evil.example" would
  // be protocol-relative: refuse those characters outright.
  if (/[\\\s]/.test(url) || [...url].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return null;
  if (/^\/(?!\/)/.test(url)) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}
