/* Descriptive statistics for benchmark figures: median, mean, sample standard
 * deviation, 95% confidence interval of the mean (Student t), percentiles,
 * coefficient of variation and Pearson correlation. Pure functions on arrays;
 * NaN marks "not defined" (e.g. the stddev of one value). */
#ifndef ZN_BENCH_STATS_H
#define ZN_BENCH_STATS_H

#include "core/common.h"

typedef struct zn_stats_summary {
  size_t count;
  double mean;
  double median;
  double stddev;      /* sample (n - 1); NaN when count < 2 */
  double ci95_half;   /* half-width of the 95% CI of the mean: t(0.975, n-1) * s / sqrt(n); NaN when count < 2 */
  double cv;          /* stddev / mean; NaN when undefined */
  double min, max;
} zn_stats_summary;

/* Summary of values[0..count) (not modified). All NaN when count == 0. */
ZN_INTERNAL zn_stats_summary zn_stats_summarize(const double *values, size_t count);

/* Percentile p in [0, 100] by linear interpolation between the closest ranks
 * (numpy's default): rank = p/100 * (n - 1). Sorts values in place. NaN if count == 0. */
ZN_INTERNAL double zn_stats_percentile_sorted(const double *sorted, size_t count, double p);
ZN_INTERNAL double zn_stats_percentile(double *values, size_t count, double p);
ZN_INTERNAL void zn_stats_sort(double *values, size_t count);

/* Two-sided 95% quantile of Student's t with df degrees of freedom:
 * exact table for df <= 30, Cornish-Fisher expansion above (error < 1e-4). */
ZN_INTERNAL double zn_stats_t975(size_t df);

/* Pearson's r over the pairs where both x[i] and y[i] are finite; *n_out gets
 * that count. NaN when fewer than 3 pairs or a variable is constant, which
 * includes a spread of rounding noise only (RMS deviation <= 1e-10 x |mean|). */
ZN_INTERNAL double zn_stats_pearson(const double *x, const double *y, size_t count, size_t *n_out);

#endif
