/**
 * erf(x) to ~1e-15 in float64: Maclaurin series for |x| < 3, continued fraction of erfc beyond
 * (Abramowitz & Stegun 7.1.5 and 7.1.14), accurate enough for central differences.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 3) {
    let term = x, sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(−a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …))))
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
