/* libFuzzer target: arbitrary bytes as a `zenith bench` config file through
 * the INI reader (libinih), every key's value parser, the pre-flight check
 * and the formatter that prints the resolved config. Any crash, leak or UB
 * is a bug; errors are the expected outcome. The bytes reach the loader as a
 * file (a memfd, as /proc/self/fd/N), the only way the CLI reads a config.
 * Built with -DZN_FUZZ=ON (clang); scripts/fuzz.sh runs it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("fuzz.ini", 0);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += (size_t)n;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  zn_bench_config cfg;
  zn_bench_config_init(&cfg);
  if (done == size && zn_bench_config_load(&cfg, path) == ZN_OK) {
    (void)zn_bench_config_check(&cfg);
    char buf[8192];
    (void)zn_bench_config_format(&cfg, buf, sizeof buf);
  }
  close(fd);
  return 0;
}
