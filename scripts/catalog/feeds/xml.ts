/**
 * Merchant Center RSS 2.0 feeds (`<rss><channel><item>` with `g:` fields, Atom `<entry>`
 * too), read as a stream with saxes: memory stays flat however large the feed. Each item
 * becomes field → text by local name (`g:id` → `id`; plain `<title>` and `<link>` too).
 */
import { SaxesParser } from 'saxes';

/** Feeds products from XML chunks; `take()` returns the items completed so far. */
export class GmcXmlReader {
  private readonly parser = new SaxesParser({ xmlns: true });
  private readonly done: Array<Record<string, string>> = [];
  private current: Record<string, string> | null = null;
  private field: string | null = null;
  private text = '';
  private depth = 0;

  constructor() {
    this.parser.on('opentag', (tag) => {
      const name = tag.local;
      if (this.current === null && (name === 'item' || name === 'entry')) {
        this.current = {};
        this.depth = 0;
        return;
      }
      if (this.current !== null) {
        this.depth++;
        // Only direct children of the item are fields (g:shipping has children of its own).
        if (this.depth === 1) {
          this.field = name.toLowerCase();
          this.text = '';
        }
      }
    });
    this.parser.on('text', (text) => {
      if (this.field !== null && this.depth === 1) this.text += text;
    });
    this.parser.on('cdata', (text) => {
      if (this.field !== null && this.depth === 1) this.text += text;
    });
    this.parser.on('closetag', (tag) => {
      if (this.current === null) return;
      if (this.depth === 0 && (tag.local === 'item' || tag.local === 'entry')) {
        this.done.push(this.current);
        this.current = null;
        return;
      }
      if (this.depth === 1 && this.field !== null) {
        // The first value of a repeated field wins (GMC allows several product_type).
        this.current[this.field] ??= this.text.trim();
        this.field = null;
      }
      this.depth--;
    });
  }

  /** Parse a chunk (throws on malformed XML, naming the line). */
  write(chunk: string): void {
    this.parser.write(chunk);
  }

  /** End of input. */
  close(): void {
    this.parser.close();
  }

  /** Items completed since the last call. */
  take(): Array<Record<string, string>> {
    return this.done.splice(0, this.done.length);
  }
}
