/**
 * Serves a metrics registry at GET /metrics on 127.0.0.1 (Prometheus scrapes it), plus
 * the routes of optional handlers (the privacy requests); anything else is a 404.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from './metrics';

/** A listening metrics endpoint. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Another route module on the same server: true when it answered the request. */
export type ExtraRoutes = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

/** Listens on `host:port` (port 0 = any free port) and answers /metrics from `registry`. */
export async function serveMetrics(
  registry: MetricsRegistry,
  port: number,
  host = '127.0.0.1',
  extra: ExtraRoutes[] = [],
): Promise<MetricsServer> {
  const server = createServer(async (request, response) => {
    for (const routes of extra) if (await routes(request, response)) return;
    if (request.method === 'GET' && (request.url === '/metrics' || request.url?.startsWith('/metrics?'))) {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(registry.render());
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found: try /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
