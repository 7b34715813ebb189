/* Statistics against hand-computed values: mean, median, sample stddev,
 * Student-t 95% CI, cv, numpy-style percentiles, Pearson r with its count. */
#include <math.h>

#include "bench/stats.h"
#include "harness.h"

int zn_test_main(void) {
  const double v[8] = {2, 4, 4, 4, 5, 5, 7, 9};
  zn_stats_summary s = zn_stats_summarize(v, 8);
  CHECK_EQ_INT(s.count, 8);
  CHECK_NEAR(s.mean, 5.0, 1e-12);
  CHECK_NEAR(s.median, 4.5, 1e-12);
  CHECK_NEAR(s.stddev, sqrt(32.0 / 7.0), 1e-12);              /* 2.138089935 */
  CHECK_NEAR(s.ci95_half, 2.36462425 * sqrt(32.0 / 7.0) / sqrt(8.0), 1e-7); /* t(0.975, 7) s / sqrt(n) */
  CHECK_NEAR(s.cv, sqrt(32.0 / 7.0) / 5.0, 1e-12);
  CHECK_NEAR(s.min, 2, 0);
  CHECK_NEAR(s.max, 9, 0);
  CHECK(v[0] == 2 && v[7] == 9); /* input untouched */

  zn_stats_summary one = zn_stats_summarize(v + 3, 1);
  CHECK_NEAR(one.mean, 4, 0);
  CHECK_NEAR(one.median, 4, 0);
  CHECK(isnan(one.stddev) && isnan(one.ci95_half) && isnan(one.cv));
  zn_stats_summary none = zn_stats_summarize(v, 0);
  CHECK(none.count == 0 && isnan(none.mean) && isnan(none.median));

  /* odd count: the middle value */
  const double odd[5] = {9, 1, 5, 3, 7};
  CHECK_NEAR(zn_stats_summarize(odd, 5).median, 5, 0);

  double p[10] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  CHECK_NEAR(zn_stats_percentile(p, 10, 50), 5.5, 1e-12);
  CHECK_NEAR(zn_stats_percentile(p, 10, 90), 9.1, 1e-12);  /* rank 8.1 */
  CHECK_NEAR(zn_stats_percentile(p, 10, 99), 9.91, 1e-12); /* rank 8.91 */
  CHECK_NEAR(zn_stats_percentile(p, 10, 0), 1, 0);
  CHECK_NEAR(zn_stats_percentile(p, 10, 100), 10, 0);
  CHECK(p[0] == 1); /* sorted in place */
  CHECK(isnan(zn_stats_percentile(p, 0, 50)));
  double single = 3.5;
  CHECK_NEAR(zn_stats_percentile(&single, 1, 90), 3.5, 0);

  CHECK_NEAR(zn_stats_t975(1), 12.7062047, 1e-6);
  CHECK_NEAR(zn_stats_t975(29), 2.04522964, 1e-6);
  CHECK_NEAR(zn_stats_t975(30), 2.04227246, 1e-6);
  CHECK_NEAR(zn_stats_t975(40), 2.02107539, 1e-4);
  CHECK_NEAR(zn_stats_t975(100), 1.98397152, 1e-4);
  CHECK_NEAR(zn_stats_t975(100000), 1.95996398, 1e-4);
  CHECK(isnan(zn_stats_t975(0)));

  const double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {2, 4, 5, 4, 5, NAN};
  size_t n = 0;
  CHECK_NEAR(zn_stats_pearson(x, y, 6, &n), 6.0 / sqrt(60.0), 1e-12); /* the NaN pair is left out */
  CHECK_EQ_INT(n, 5);
  const double neg[4] = {8, 6, 4, 2};
  CHECK_NEAR(zn_stats_pearson(x, neg, 4, &n), -1.0, 1e-12);
  CHECK_EQ_INT(n, 4);
  const double flat[4] = {3, 3, 3, 3};
  CHECK(isnan(zn_stats_pearson(x, flat, 4, &n)));
  CHECK_EQ_INT(n, 4);
  /* a saturated CPU % that differs only by rounding (as averaged from samples) is constant, not r = 0.7 */
  const double noisy[4] = {99.999999999999986, 100, 100.00000000000001, 100.00000000000003};
  CHECK(isnan(zn_stats_pearson(x, noisy, 4, &n)));
  CHECK_EQ_INT(n, 4);
  CHECK(isnan(zn_stats_pearson(noisy, x, 4, &n)));
  const double small[4] = {1e-12, 2e-12, 3e-12, 4e-12}; /* small values with a real spread still correlate */
  CHECK_NEAR(zn_stats_pearson(x, small, 4, &n), 1.0, 1e-12);
  CHECK(isnan(zn_stats_pearson(x, neg, 2, &n))); /* too few */
  CHECK_EQ_INT(n, 2);
  return 0;
}
