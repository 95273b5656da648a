/**
 * The demo shop's page shell: one stylesheet, a header, and beacon.js. Everything
 * interpolated into pages goes through escapeHtml first.
 */
import { escapeHtml } from '../widget/escape';

/** The page stylesheet, inline (one request less); csp.ts allows it by hash. */
export const DEMO_CSS = `
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:.75rem 1.5rem;display:flex;gap:1rem;align-items:baseline}
header a{color:#fff;font-weight:700;text-decoration:none}header small{color:#d0d7de}
main{max-width:70rem;margin:0 auto;padding:1.5rem}
.grid{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:1rem}
.card a{box-sizing:border-box;display:block;background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem;color:inherit;text-decoration:none;height:100%}
.card a:focus-visible,button:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.price{color:#116329;font-weight:600}.muted{color:#57606a}
.product{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1.5rem}
button{font:inherit;background:#1f883d;color:#fff;border:0;border-radius:6px;padding:.5rem 1rem;cursor:pointer}
`.trim();

/** A full demo page around `body`. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Edge personalization demo</title><style>${DEMO_CSS}</style>
<script src="/beacon.js" defer></script></head>
<body><header><a href="/demo">Demo shop</a><small>events → user object → recommendations, all at the edge</small></header>
<main>${body}</main></body></html>`;
}
