#!/bin/sh
# Sends order 1001 of the shopper $EPR_UID (the epr_uid cookie, or your customer id) as a
# purchase event, with the edge's INGEST_TOKEN secret: a backend writes for any user.
# Resending is safe: the edge deduplicates on event_id, which is the order id.
EDGE=${EDGE:-https://edge.example.com}
curl --fail-with-body -sS "$EDGE/v1/events" \
  -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $INGEST_TOKEN" \
  -d '{"events": [{
        "event_id": "order-1001", "type": "purchase", "user_id": "'"$EPR_UID"'",
        "ts": "'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'", "order_id": "1001", "currency": "GBP",
        "items": [{"item_id": "85123A", "quantity": 2, "price": 2.55}]
      }]}'
