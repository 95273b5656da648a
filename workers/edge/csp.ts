/**
 * Content-Security-Policy for the HTML pages the edge serves itself (`/demo`, `/docs`,
 * and any page added later, such as the pipeline dashboard): a strict default that
 * allows nothing but this origin, no inline script, no framing, no form posts. A page
 * widens only what it needs: whole directives (images from catalogs), and inline
 * `<style>` bodies it names, which are allowed by their SHA-256 hash, never by
 * `'unsafe-inline'`. Built on hono's `secureHeaders`, so the page also gets nosniff,
 * frame and opener isolation and the other headers that middleware sets.
 */
import { secureHeaders } from 'hono/secure-headers';
import type { MiddlewareHandler } from 'hono';

type Directive =
  'defaultSrc' | 'scriptSrc' | 'styleSrc' | 'imgSrc' | 'fontSrc' | 'connectSrc' | 'baseUri' | 'formAction' | 'frameAncestors';

/** The directives a page may set, in hono's camelCase form. */
export type CspDirectives = Partial<Record<Directive, string[]>>;

/** Nothing but this origin: scripts, styles, fonts and fetches from 'self', no base, forms or framing. */
export const STRICT_CSP: Readonly<Record<Directive, readonly string[]>> = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/** What a page adds to {@link STRICT_CSP}. */
export interface CspOptions {
  /** Directives that replace the strict ones whole (e.g. `{ imgSrc: ["'self'", 'https:'] }`). */
  directives?: CspDirectives;
  /** Exact bodies of inline `<style>` elements the page (or HTML it loads) contains; allowed by hash. */
  inlineStyles?: readonly string[];
  /** `Referrer-Policy` (default hono's `no-referrer`); a shop page keeps the browser default. */
  referrerPolicy?: string;
}

/** The `'sha256-…'` source of an inline `<style>` or `<script>` body. */
export async function cspHash(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

/** Middleware setting the page's policy (see the module comment); hashes are computed once per isolate. */
export function contentSecurityPolicy(options: CspOptions = {}): MiddlewareHandler {
  let middleware: Promise<MiddlewareHandler> | null = null;
  const build = async (): Promise<MiddlewareHandler> => {
    const hashes = await Promise.all((options.inlineStyles ?? []).map(cspHash));
    const directives = { ...STRICT_CSP, ...options.directives };
    return secureHeaders({
      contentSecurityPolicy: { ...directives, styleSrc: [...directives.styleSrc, ...hashes] } as Record<Directive, string[]>,
      ...(options.referrerPolicy ? { referrerPolicy: options.referrerPolicy } : {}),
    });
  };
  return async (c, next) => (await (middleware ??= build()))(c, next);
}
