/**
 * A confirmed order, sent to the edge from your backend (order webhook or checkout
 * confirmation): the order as your shop recorded it is the truth for revenue, and it
 * arrives even when the shopper's browser blocks scripts. Node 18+ (global fetch).
 */

/** The order as your backend knows it. */
export interface Order {
  id: string;
  currency: string;
  lines: { sku: string; quantity: number; unitPrice: number }[];
}

/** The anonymous shopper id beacon.js keeps in the `epr_uid` cookie of your domain, from the request's Cookie header. */
export function shopperId(cookieHeader: string | undefined): string | undefined {
  return /(?:^|;\s*)epr_uid=([^;]+)/.exec(cookieHeader ?? '')?.[1];
}

/**
 * Sends `order` as a purchase of `userId` (your customer id for a logged-in shopper, else
 * the `epr_uid` cookie); safe to retry (the event id is the order id). `ingestToken` is the
 * edge's INGEST_TOKEN secret: with it your backend writes for any user, no user_hash needed.
 */
export async function sendPurchase(edge: string, ingestToken: string, userId: string, order: Order): Promise<void> {
  const response = await fetch(`${edge}/v1/events`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ingestToken}` },
    body: JSON.stringify({
      events: [
        {
          event_id: `order-${order.id}`,
          type: 'purchase',
          user_id: userId,
          ts: Date.now(),
          order_id: order.id,
          currency: order.currency,
          items: order.lines.map((line) => ({ item_id: line.sku, quantity: line.quantity, price: line.unitPrice })),
        },
      ],
    }),
  });
  const result = (await response.json()) as { rejected?: unknown[] };
  if (response.status !== 202 || result.rejected?.length) throw new Error(`edge refused order ${order.id}: ${JSON.stringify(result)}`);
}
