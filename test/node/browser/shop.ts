/**
 * A storefront for the browser tests: a plain HTTP server on its own port, hence another
 * origin than the edge, as every real shop is. Pages are the examples of docs/storefront
 * with the documented edge address (https://edge.example.com) pointed at the test's edge.
 */
import { createServer, type Server } from 'node:http';
import { freePort } from '../../../scripts/lib/dev-worker';

/** The documented edge address the examples use. */
export const DOC_EDGE = 'https://edge.example.com';

/** A response of the shop: the page for a path, or null for 404. */
export type ShopRoutes = (path: string) => { type: string; body: string } | null;

/** A running shop. */
export interface Shop {
  origin: string;
  close(): Promise<void>;
}

/** `html` with the documented edge address replaced by `edge`. */
export const pointedAt = (html: string, edge: string) => html.replaceAll(DOC_EDGE, edge);

/** Serves `routes` on 127.0.0.1 at a free port; `/favicon.ico` is an empty 204 so the console stays clean. */
export async function startShop(routes: ShopRoutes): Promise<Shop> {
  const port = await freePort();
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://shop').pathname;
    if (path === '/favicon.ico') return void response.writeHead(204).end();
    const page = routes(path);
    if (!page) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    response.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-store' }).end(page.body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
