/**
 * A keyword rule that gives Online Retail products (which have no category) a coarse
 * one from their title, for the demo shop's diversity and category popularity. First
 * matching rule wins, so the seasonal and specific rules come before the broad ones.
 */

const RULES: ReadonlyArray<[string, RegExp]> = [
  ['christmas', /CHRISTMAS|XMAS|ADVENT|SNOWFLAKE|REINDEER|SANTA/],
  ['bags', /\bBAGS?\b|SHOPPER|TOTE|PURSE/],
  ['cards-and-wrap', /\bCARDS?\b|WRAP|PAPER|TISSUE|RIBBON|GIFT TAG|ENVELOPE/],
  ['candles-and-lights', /CANDLE|T-LIGHT|TEA ?LIGHT|LANTERN|\bLIGHTS?\b|LAMP/],
  [
    'kitchen-and-dining',
    /MUG|\bCUPS?\b|PLATE|BOWL|\bJAR\b|\bTINS?\b|CAKE|BAKING|LUNCH ?BOX|BOTTLE|NAPKIN|TEAPOT|SPOON|CUTLERY|APRON|JUG|TRAY|DOILY|STRAWS?|CAKESTAND/,
  ],
  ['jewellery', /NECKLACE|BRACELET|EARRINGS|\bRING\b|BROOCH|HAIR|DIAMANTE/],
  ['kids-and-toys', /CHILDRENS?|\bKIDS?\b|\bTOYS?\b|\bDOLLY?\b|GAME|PUZZLE|CRAYON|PENCILS?|SKIPPING|SPACEBOY|DOLLY GIRL|TEDDY/],
  ['garden', /GARDEN|PLANT|WATERING|BIRD|FLOWER POT|HERB/],
  [
    'home-decor',
    /\bSIGN\b|FRAME|CLOCK|MIRROR|CUSHION|DOORMAT|\bHOOKS?\b|HANGER|HEART|WREATH|BUNTING|GARLAND|ORNAMENT|DECORATION|VASE|DOORSTOP|BOX/,
  ],
];

/** The category slug of a product title, or undefined when no rule matches. */
export function categoryOfTitle(title: string): string | undefined {
  const upper = title.toUpperCase();
  for (const [category, pattern] of RULES) if (pattern.test(upper)) return category;
  return undefined;
}
