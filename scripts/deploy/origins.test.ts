/** The production origin rule, on lists a region might carry. */
import { describe, expect, it } from 'vitest';
import { productionOriginProblems } from './origins';

describe('productionOriginProblems', () => {
  it('accepts explicit https origins', () => {
    expect(productionOriginProblems('https://shop.example.com, https://www.shop.example.com:8443')).toEqual([]);
  });

  it.each([
    '*',
    'http://localhost:*',
    'https://shop.example.com:*',
    'http://shop.example.com',
    'https://*.example.com',
    'https://shop.example.com/',
  ])('refuses %s', (entry) => {
    expect(productionOriginProblems(`https://ok.example.com,${entry}`)).toHaveLength(1);
  });

  it('refuses a missing list', () => {
    expect(productionOriginProblems(undefined)).toHaveLength(1);
    expect(productionOriginProblems(' ')).toHaveLength(1);
  });
});
