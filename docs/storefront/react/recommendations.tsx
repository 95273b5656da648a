/**
 * A recommendation list with its measurement: one `rec_impression` when at least half of
 * it is in view, a `rec_click` for the item clicked. Without them the edge cannot tell
 * which recommendations work.
 */
import { useEffect, useRef, type MouseEvent } from 'react';
import { useRecommendations } from './use-recommendations';

interface Props {
  context: 'home' | 'product' | 'cart';
  itemId?: string;
  /** Opens a product (your router); the click is already reported. */
  onOpen: (itemId: string, event: MouseEvent) => void;
}

export function RecommendationList({ context, itemId, onOpen }: Props) {
  const recommendations = useRecommendations(context, itemId);
  const list = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (!recommendations || !list.current) return;
    const { rec_id, items } = recommendations;
    const observer = new IntersectionObserver(
      ([entry]) => {
        if (!entry?.isIntersecting) return;
        observer.disconnect();
        window.epr?.track('rec_impression', { rec_id, item_ids: items.map((item) => item.item_id) });
      },
      { threshold: 0.5 },
    );
    observer.observe(list.current);
    return () => observer.disconnect();
  }, [recommendations]);

  if (!recommendations?.items.length) return null;
  return (
    <section aria-label="You may also like">
      <h2>You may also like</h2>
      <ul ref={list} data-rec-id={recommendations.rec_id}>
        {recommendations.items.map((item) => (
          <li key={item.item_id}>
            <a
              href={`/product/${encodeURIComponent(item.item_id)}`}
              data-item-id={item.item_id}
              onClick={(event) => {
                window.epr?.track('rec_click', { rec_id: recommendations.rec_id, item_id: item.item_id });
                onOpen(item.item_id, event);
              }}
            >
              {item.title}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}
