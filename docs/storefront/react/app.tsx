/**
 * The smallest single-page shop around the list: a product page whose marker beacon.js
 * reads (`data-epr-product-id`), and client-side navigation with pushState. beacon.js
 * notices the navigation and sends the new product_view; the list follows `itemId`.
 */
import { useEffect, useState, type MouseEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { RecommendationList } from './recommendations';

const productFromPath = () => decodeURIComponent(location.pathname.split('/').pop() ?? '');

function App() {
  const [itemId, setItemId] = useState(productFromPath);

  useEffect(() => {
    const onBack = () => setItemId(productFromPath());
    addEventListener('popstate', onBack);
    return () => removeEventListener('popstate', onBack);
  }, []);

  const open = (id: string, event: MouseEvent) => {
    event.preventDefault();
    history.pushState(null, '', `/product/${encodeURIComponent(id)}`);
    setItemId(id);
  };

  return (
    <main>
      <article data-epr-product-id={itemId}>
        <h1>Product {itemId}</h1>
        <button type="button" data-epr-add-to-cart={itemId}>
          Add to cart
        </button>
      </article>
      <RecommendationList context="product" itemId={itemId} onOpen={open} />
    </main>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
