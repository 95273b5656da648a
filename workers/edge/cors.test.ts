/** The ALLOWED_ORIGINS grammar: exact origins, `scheme://host:*`, `*`, and what is not an origin. */
import { describe, expect, it } from 'vitest';
import { originAllowed, parseOrigins, refusalMessage } from './cors';

describe('parseOrigins', () => {
  it('reads exact origins, port wildcards and *, normalised', () => {
    const policy = parseOrigins(' https://Shop.example.com/ , http://localhost:*,http://127.0.0.1:*,, http://[::1]:* ');
    expect([...policy.exact]).toEqual(['https://shop.example.com']);
    expect(policy.anyPort).toEqual(['http://localhost', 'http://127.0.0.1', 'http://[::1]']);
    expect(policy.any).toBe(false);
    expect(policy.invalid).toEqual([]);
    expect(parseOrigins('*').any).toBe(true);
  });

  it('sets aside entries that are not origins', () => {
    expect(parseOrigins('shop.example.com,https://shop.example.com/path,https://*.example.com,ftp://x').invalid).toEqual([
      'shop.example.com',
      'https://shop.example.com/path',
      'https://*.example.com',
      'ftp://x',
    ]);
  });
});

describe('originAllowed', () => {
  const local = parseOrigins('http://localhost:*,http://127.0.0.1:*');
  it.each(['http://localhost', 'http://localhost:3000', 'http://127.0.0.1:8000', 'http://127.0.0.1:65535'])(
    'allows %s locally',
    (origin) => {
      expect(originAllowed(local, origin)).toBe(true);
    },
  );
  it.each([
    'https://localhost:3000', // another scheme
    'http://localhost.evil.example',
    'http://localhost:3000.evil.example',
    'http://127.0.0.10:8000',
    'http://localhost:',
    'null',
    '',
  ])('refuses %s locally', (origin) => {
    expect(originAllowed(local, origin)).toBe(false);
  });

  it('allows exactly the listed origins in production', () => {
    const production = parseOrigins('https://shop.example.com,https://www.shop.example.com');
    expect(originAllowed(production, 'https://shop.example.com')).toBe(true);
    expect(originAllowed(production, 'https://www.shop.example.com')).toBe(true);
    expect(originAllowed(production, 'http://shop.example.com')).toBe(false);
    expect(originAllowed(production, 'https://shop.example.com:8443')).toBe(false);
    expect(originAllowed(production, 'http://localhost:3000')).toBe(false);
  });
});

describe('refusalMessage', () => {
  it('names the origin and where the setting lives', () => {
    expect(refusalMessage('http://127.0.0.2:8000', 'local')).toContain('http://127.0.0.2:8000');
    expect(refusalMessage('http://127.0.0.2:8000', 'local')).toContain('ALLOWED_ORIGINS in [vars]');
    expect(refusalMessage('https://shop.example.de', 'eu')).toContain('ALLOWED_ORIGINS in [env.eu.vars]');
  });
});
