/**
 * The query of a widget: a recommendation query plus its presentation (`title`, `href`).
 * One schema for both ways of asking, `GET /v1/widgets/recommendations` and the
 * `recommend` of a `POST /v1/events` with `widget: true` (beacon.js fills a page's first
 * widget from its events' answer), so they take the same parameters.
 */
import { z } from 'zod';
import { recommendationQueryFields, requirePriceRange, requireProductItem } from '../../../shared/recs/api';

/** The widget's query parameters. */
export const widgetQuerySchema = requirePriceRange(
  requireProductItem(
    recommendationQueryFields.extend({
      title: z.string().trim().min(1).max(80).default('Recommended for you').meta({ description: 'The heading of the widget.' }),
      href: z
        .string()
        .max(200)
        .regex(/^\/[^/]/, 'must be a root-relative path')
        .optional()
        .meta({ description: 'Link pattern for items, e.g. `/demo/product/{id}` (overrides catalog URLs).', examples: ['/p/{id}'] }),
    }),
  ),
);
export type WidgetQuery = z.infer<typeof widgetQuerySchema>;
