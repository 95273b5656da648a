/**
 * The pipeline's HTTP server (default http://127.0.0.1:9464):
 *
 *   GET /metrics          Prometheus exposition (prom-client)
 *   GET /                 the operator's dashboard (ops/dashboard: page, style, client)
 *   GET /dashboard.js     the page's script: ops/dashboard/client.ts with uPlot, bundled
 *                         by esbuild when the server starts (no CDN: everything is local)
 *   GET /api/dashboard    the data the page draws (ops/dashboard/data.ts)
 *   + the routes of extra modules (the privacy requests: POST /privacy/erase/{id}, GET
 *     /privacy/export/{id}), which authenticate every caller themselves, loopback too
 *
 * Requests from the loopback interface are trusted; from anywhere else (when bound to a
 * public address) they need the admin token, as a bearer token (Prometheus'
 * `authorization` setting) or as the password of HTTP Basic auth (a browser's prompt),
 * compared in constant time; without a configured token they are refused. Every page
 * carries a strict Content-Security-Policy: scripts, styles and data from this origin only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { MetricsRegistry } from './metrics';

/** The dashboard's static files (a browser program, type-checked by tsconfig.browser.json). */
const DASHBOARD_DIR = fileURLToPath(new URL('../../../ops/dashboard/', import.meta.url));
const UPLOT_CSS = fileURLToPath(import.meta.resolve('uplot/dist/uPlot.min.css'));

/** Strict: nothing inline, nothing from elsewhere, no framing. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

export interface PipelineServerOptions {
  registry: MetricsRegistry;
  /** The dashboard document; absent: the page shows nothing but /metrics works. */
  dashboard?: () => Promise<unknown>;
  port: number;
  /** Default 127.0.0.1; anything else exposes the server (and requires the token). */
  host?: string;
  /** Required from non-loopback clients; null refuses them all. */
  adminToken?: string | null;
  log?: (line: string) => void;
  /** Other route modules, asked first (they authenticate their own requests). */
  extra?: readonly ExtraRoutes[];
}

/** Another route module on the same server: true when it answered the request. */
export type ExtraRoutes = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/** A listening server. */
export interface PipelineServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Constant-time equality over SHA-256 digests (neither content nor length leaks). */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** The token a request presents: bearer, or the password of Basic auth. */
function presentedToken(request: IncomingMessage): string | null {
  const header = request.headers.authorization ?? '';
  const [scheme, value] = header.split(' ', 2);
  if (!value) return null;
  if (scheme?.toLowerCase() === 'bearer') return value.trim();
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : null;
  }
  return null;
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS, ...extra });
  response.end(body);
}

function sendError(response: ServerResponse, status: number, error: string, message: string, extra: Record<string, string> = {}): void {
  send(response, status, 'application/json', JSON.stringify({ error, message }), { 'cache-control': 'no-store', ...extra });
}

/** Bundles the dashboard client (TypeScript + uPlot) into one script. */
async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [`${DASHBOARD_DIR}client.ts`],
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** Starts the server on `host:port` (port 0: any free port). */
export async function servePipeline(options: PipelineServerOptions): Promise<PipelineServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((line: string) => console.log(`[server] ${line}`));
  const files = {
    '/': { type: 'text/html; charset=utf-8', body: readFileSync(`${DASHBOARD_DIR}index.html`) },
    '/dashboard.css': { type: 'text/css; charset=utf-8', body: readFileSync(`${DASHBOARD_DIR}dashboard.css`) },
    '/vendor/uPlot.min.css': { type: 'text/css; charset=utf-8', body: readFileSync(UPLOT_CSS) },
  } as Record<string, { type: string; body: Buffer | string }>;
  files['/dashboard.js'] = { type: 'text/javascript; charset=utf-8', body: await bundleClient() };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0]!;
    for (const routes of options.extra ?? []) if (await routes(request, response)) return;
    if (!LOOPBACK.has(request.socket.remoteAddress ?? '')) {
      const token = options.adminToken ?? null;
      if (token === null) return sendError(response, 403, 'admin_disabled', 'set ADMIN_TOKEN to reach the pipeline from another host');
      const presented = presentedToken(request);
      if (presented === null || !tokenMatches(presented, token))
        return sendError(response, 401, 'unauthorized', 'the admin token is required (bearer, or the password of Basic auth)', {
          'www-authenticate': 'Basic realm="pipeline", charset="UTF-8"',
        });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return sendError(response, 405, 'method_not_allowed', 'GET only', { allow: 'GET, HEAD' });
    if (path === '/metrics') {
      const text = await options.registry.render();
      return send(response, 200, options.registry.contentType, text, { 'cache-control': 'no-store' });
    }
    if (path === '/api/dashboard') {
      const body = options.dashboard ? await options.dashboard() : {};
      return send(response, 200, 'application/json', JSON.stringify(body), { 'cache-control': 'no-store' });
    }
    const file = files[path];
    if (file) return send(response, 200, file.type, file.body, { 'cache-control': 'no-cache' });
    return sendError(response, 404, 'not_found', `no ${path}: try / or /metrics`);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`${request.method} ${request.url} failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!response.headersSent) sendError(response, 500, 'internal_error', 'the pipeline could not answer; see its log');
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
