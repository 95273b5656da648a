#!/bin/sh
# Sends order 1001 of the shopper whose epr_uid cookie is $EPR_UID as a purchase event.
# Resending is safe: the edge deduplicates on event_id, which is the order id.
# PLACEHOLDER (issue 11, identity): add -H "Authorization: Bearer $INGEST_TOKEN" once the edge checks an ingest token.
EDGE=${EDGE:-https://edge.example.com}
curl --fail-with-body -sS "$EDGE/v1/events" \
  -H 'Content-Type: application/json' \
  -d '{"events": [{
        "event_id": "order-1001", "type": "purchase", "user_id": "'"$EPR_UID"'",
        "ts": "'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'", "order_id": "1001", "currency": "GBP",
        "items": [{"item_id": "85123A", "quantity": 2, "price": 2.55}]
      }]}'
