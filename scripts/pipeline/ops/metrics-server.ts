/**
 * Serves a metrics registry at GET /metrics on 127.0.0.1 (Prometheus scrapes it; the
 * pipeline has no other HTTP surface, so anything else is a 404).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsRegistry } from './metrics';

/** A listening metrics endpoint. */
export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (port 0 = any free port) and answers /metrics from `registry`. */
export async function serveMetrics(registry: MetricsRegistry, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && (request.url === '/metrics' || request.url?.startsWith('/metrics?'))) {
      registry.render().then(
        (text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(text);
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end(`metrics failed: ${String(error)}\n`);
        },
      );
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
