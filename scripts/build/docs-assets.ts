/**
 * `npm run build:docs` (also run by `npm install`, as `prepare`): copies Swagger UI's
 * browser build from node_modules/swagger-ui-dist into the Worker's static assets
 * (public/docs/vendor/, git-ignored), so `GET /docs` renders from this origin alone:
 * offline in tests and the demo, under a strict CSP, and without a byte of the 1.5 MB
 * renderer in the Worker bundle (static assets are served without running the Worker).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** What the page loads, plus the licence files that must travel with the code. */
const FILES = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'];

const root = join(import.meta.dirname, '..', '..');
const source = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const target = join(root, 'public', 'docs', 'vendor');
mkdirSync(target, { recursive: true });
for (const file of FILES) copyFileSync(join(source, file), join(target, file));
console.log(`docs assets: ${FILES.length} files of swagger-ui-dist copied to ${target}`);
