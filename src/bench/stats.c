/* Statistics behind every reported figure (thesis: each configuration is
 * repeated >= 30 times; we report the spread, not only a mean). Kept free of
 * benchmark types so the unit tests check it against hand-computed values. */
#include "bench/stats.h"

#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void zn_stats_sort(double *values, size_t count) {
  if (count > 1) qsort(values, count, sizeof *values, cmp_double);
}

double zn_stats_percentile_sorted(const double *sorted, size_t count, double p) {
  if (count == 0) return NAN;
  if (p <= 0) return sorted[0];
  if (p >= 100) return sorted[count - 1];
  double rank = p / 100.0 * (double)(count - 1);
  size_t lo = (size_t)floor(rank);
  size_t hi = lo + 1 < count ? lo + 1 : lo;
  double frac = rank - (double)lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

double zn_stats_percentile(double *values, size_t count, double p) {
  zn_stats_sort(values, count);
  return zn_stats_percentile_sorted(values, count, p);
}

double zn_stats_t975(size_t df) {
  static const double table[31] = {
      NAN,        12.7062047, 4.30265273, 3.18244631, 2.77644511, 2.57058184, 2.44691185, 2.36462425,
      2.30600414, 2.26215716, 2.22813885, 2.20098516, 2.17881283, 2.16036866, 2.14478669, 2.13144955,
      2.11990530, 2.10981558, 2.10092204, 2.09302405, 2.08596345, 2.07961384, 2.07387307, 2.06865761,
      2.06389856, 2.05953855, 2.05552944, 2.05183052, 2.04840714, 2.04522964, 2.04227246};
  if (df == 0) return NAN;
  if (df <= 30) return table[df];
  const double z = 1.959963984540054, n = (double)df;
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * n) + (5 * z5 + 16 * z3 + 3 * z) / (96 * n * n) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * n * n * n);
}

zn_stats_summary zn_stats_summarize(const double *values, size_t count) {
  zn_stats_summary s = {count, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
  if (count == 0) return s;
  double sum = 0;
  s.min = values[0];
  s.max = values[0];
  for (size_t i = 0; i < count; i++) {
    sum += values[i];
    if (values[i] < s.min) s.min = values[i];
    if (values[i] > s.max) s.max = values[i];
  }
  s.mean = sum / (double)count;
  double *sorted = zn_malloc(count * sizeof *sorted);
  if (sorted) {
    for (size_t i = 0; i < count; i++) sorted[i] = values[i];
    zn_stats_sort(sorted, count);
    s.median = zn_stats_percentile_sorted(sorted, count, 50);
    zn_free(sorted);
  }
  if (count >= 2) {
    double ss = 0;
    for (size_t i = 0; i < count; i++) ss += (values[i] - s.mean) * (values[i] - s.mean);
    s.stddev = sqrt(ss / (double)(count - 1));
    s.ci95_half = zn_stats_t975(count - 1) * s.stddev / sqrt((double)count);
    if (s.mean != 0) s.cv = s.stddev / fabs(s.mean);
  }
  return s;
}

double zn_stats_pearson(const double *x, const double *y, size_t count, size_t *n_out) {
  size_t n = 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < count; i++)
    if (isfinite(x[i]) && isfinite(y[i])) { mx += x[i]; my += y[i]; n++; }
  if (n_out) *n_out = n;
  if (n < 3) return NAN;
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < count; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i])) continue;
    double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  /* A spread that is only rounding noise is no variation: a saturated CPU
   * averaged from monitor samples reads 99.999999999999986 in one window and
   * 100 in the next, and r of that noise is meaningless (it even changed with
   * the digits a results file kept). Relative RMS spread <= 1e-10: constant. */
  const double rel = 1e-10;
  if (sxx <= rel * rel * mx * mx * (double)n || syy <= rel * rel * my * my * (double)n) return NAN;
  double r = sxy / sqrt(sxx * syy);
  return r > 1 ? 1 : (r < -1 ? -1 : r);
}
