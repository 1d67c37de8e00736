/**
 * Kubernetes resource quantities (`250m`, `1.5`, `512Mi`, `2G`, `1e3`) as the scheduler reads them: the
 * local API's own reading, kept apart from the product's so each is checked against the other in tests.
 */

const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** The value of a quantity in base units (cores, bytes, pods); 0 when absent, NaN when it is not one. */
export function quantityValue(quantity: string | number | undefined | null): number {
  if (quantity === undefined || quantity === null) return 0;
  if (typeof quantity === 'number') return quantity;
  const text = quantity.trim();
  const number = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text)?.[0];
  if (number === undefined) return Number.NaN;
  const suffix = text.slice(number.length);
  // `1e3` is an exponent, but `1E` alone is exa: the regexp above only took an exponent with its digits.
  const scale = BINARY[suffix] ?? DECIMAL[suffix];
  return scale === undefined ? Number.NaN : Number(number) * scale;
}
