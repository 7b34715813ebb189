/* bench_peak: the machine's fp32 FMA peak, measured now, so that "% of peak"
 * in the other benchmarks uses this hour's clock (turbo and a shared host move
 * it by 10 % and more here) rather than a number written down once. Each
 * thread runs 12 independent chains of vector FMAs (enough to cover the FMA
 * latency on two ports) in registers, no memory traffic; best of 3 windows.
 * A benchmark: it prints, it never asserts.
 *
 * usage: bench_peak [--threads N] [--seconds S]   (default: 1 thread and
 * every online CPU, 0.3 s per window); one JSON line per thread count. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1
#endif

#define CHAINS 12
#define INNER 1024  /* FMA rounds between two clock reads */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs `rounds` x INNER x CHAINS FMAs of `lanes` floats; returns a value
 * that depends on every chain so the compiler keeps them. The chains are
 * named variables, not an array: an array stays in memory at -O2. */
#define EACH_CHAIN(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#ifdef HAVE_X86
__attribute__((target("avx512f"))) static float fma_avx512(long rounds) {
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 c##i = _mm512_set1_ps((float)(i));
#define STEP(i) c##i = _mm512_fmadd_ps(c##i, m, a);
#define SUM(i) s += _mm512_reduce_add_ps(c##i);
  EACH_CHAIN(DECL)
  for (long r = 0; r < rounds; r++)
    for (int k = 0; k < INNER; k++) { EACH_CHAIN(STEP) }
  float s = 0;
  EACH_CHAIN(SUM)
  return s;
#undef DECL
#undef STEP
#undef SUM
}

__attribute__((target("avx2,fma"))) static float fma_avx2(long rounds) {
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
  float out[8], s = 0;
#define DECL(i) __m256 c##i = _mm256_set1_ps((float)(i));
#define STEP(i) c##i = _mm256_fmadd_ps(c##i, m, a);
#define SUM(i) _mm256_storeu_ps(out, c##i); for (int j = 0; j < 8; j++) s += out[j];
  EACH_CHAIN(DECL)
  for (long r = 0; r < rounds; r++)
    for (int k = 0; k < INNER; k++) { EACH_CHAIN(STEP) }
  EACH_CHAIN(SUM)
  return s;
#undef DECL
#undef STEP
#undef SUM
}
#endif

typedef struct kernel {
  const char *isa;
  int lanes;
  float (*run)(long rounds);
} kernel;

typedef struct worker {
  const kernel *k;
  long rounds;
  pthread_barrier_t *start;
  double seconds;
  float sink;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  pthread_barrier_wait(w->start);
  double t0 = now_s();
  w->sink = w->k->run(w->rounds);
  w->seconds = now_s() - t0;
  return NULL;
}

/* GFLOP/s of `threads` threads each running `rounds`, or < 0 on failure. */
static double window(const kernel *k, int threads, long rounds) {
  worker *w = calloc((size_t)threads, sizeof *w);
  pthread_t *th = calloc((size_t)threads, sizeof *th);
  pthread_barrier_t start;
  if (!w || !th || pthread_barrier_init(&start, NULL, (unsigned)threads) != 0) {
    free(w);
    free(th);
    return -1;
  }
  int made = 0;
  for (; made < threads; made++) {
    w[made] = (worker){.k = k, .rounds = rounds, .start = &start};
    if (pthread_create(&th[made], NULL, work, &w[made]) != 0) break;
  }
  if (made < threads) {  /* the barrier would never open: say so and stop */
    fprintf(stderr, "bench_peak: could not start thread %d of %d\n", made + 1, threads);
    exit(1);
  }
  double slowest = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    if (w[i].seconds > slowest) slowest = w[i].seconds;
  }
  pthread_barrier_destroy(&start);
  double flops = 2.0 * (double)k->lanes * CHAINS * INNER * (double)rounds * threads;
  free(w);
  free(th);
  return slowest > 0 ? flops / slowest * 1e-9 : -1;
}

static void measure(const kernel *k, int threads, double seconds) {
  long rounds = 64;
  while (rounds < (1L << 30)) {  /* calibrate: one window of about `seconds` */
    double t0 = now_s();
    k->run(rounds);
    if (now_s() - t0 >= seconds / 4) break;
    rounds *= 2;
  }
  rounds *= 4;
  double best = -1;
  for (int r = 0; r < 3; r++) {
    double g = window(k, threads, rounds);
    if (g > best) best = g;
  }
  printf("{\"bench\":\"peak\",\"isa\":\"%s\",\"threads\":%d,\"gflops\":%.1f}\n", k->isa, threads, best);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int threads = 0;
  double seconds = 0.3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_peak [--threads N] [--seconds S]\n");
      return 2;
    }
  }
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (threads < 0 || threads > 1024 || seconds <= 0 || seconds > 60) {
    fprintf(stderr, "bench_peak: --threads must be 1..1024 and --seconds in (0, 60]\n");
    return 2;
  }
  kernel k = {NULL, 0, NULL};
#ifdef HAVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) k = (kernel){"avx512f", 16, fma_avx512};
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) k = (kernel){"avx2", 8, fma_avx2};
#endif
  if (!k.run) {
    fprintf(stderr, "bench_peak: no FMA kernel for this CPU (x86-64 with AVX2+FMA or AVX-512 only)\n");
    return 1;
  }
  if (threads > 0) {
    measure(&k, threads, seconds);
  } else {
    measure(&k, 1, seconds);
    if (online > 1) measure(&k, (int)online, seconds);
  }
  return 0;
}
