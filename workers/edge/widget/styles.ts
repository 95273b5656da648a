/**
 * The widget's stylesheet, scoped under `.epr-widget` so it neither leaks into nor is
 * easily broken by the storefront's CSS. Colours meet WCAG AA contrast on white;
 * focus is always visible; motion is avoided.
 */
export const WIDGET_CSS = `
.epr-widget{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;margin:1.5rem 0}
.epr-widget h2{font-size:1.1rem;margin:0 0 .75rem}
.epr-widget .epr-list{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.75rem}
.epr-widget .epr-item a{box-sizing:border-box;display:flex;flex-direction:column;gap:.35rem;height:100%;padding:.6rem;border:1px solid #d0d7de;border-radius:8px;color:inherit;text-decoration:none;background:#fff}
.epr-widget .epr-item a:hover{border-color:#0969da}
.epr-widget .epr-item a:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.epr-widget img{width:100%;aspect-ratio:1;object-fit:cover;border-radius:4px;background:#f6f8fa}
.epr-widget .epr-ph{display:flex;align-items:center;justify-content:center;width:100%;aspect-ratio:1;border-radius:4px;background:#eef1f4;color:#57606a;font-size:1.5rem}
.epr-widget .epr-title{font-weight:500;overflow:hidden;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical}
.epr-widget .epr-price{color:#116329;font-weight:600}
`.trim();
