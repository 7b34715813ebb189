/* Tuning switches from the environment: valid values are taken, unset and
 * invalid ones fall back (never a partial parse or an absurd size). */
#include <stdlib.h>

#include "harness.h"

#include "core/env.h"

static void test_kib(void) {
  const char *name = "ZN_TEST_ENV_KB";
  unsetenv(name);
  CHECK_EQ_INT(zn_env_kib(name, 7, "off"), 7);
  setenv(name, "", 1);
  CHECK_EQ_INT(zn_env_kib(name, 7, "off"), 7);
  setenv(name, "0", 1);
  CHECK_EQ_INT(zn_env_kib(name, 7, "off"), 0);
  setenv(name, "512", 1);
  CHECK_EQ_INT(zn_env_kib(name, 7, "off"), 512 * 1024);
  static const char *bad[] = {"12x", "-1", "x", "99999999999", "1.5"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv(name, bad[i], 1);
    CHECK_EQ_INT(zn_env_kib(name, 7, "off"), 7);
  }
  unsetenv(name);
}

static void test_bool(void) {
  const char *name = "ZN_TEST_ENV_BOOL";
  unsetenv(name);
  CHECK(zn_env_bool(name, true));
  CHECK(!zn_env_bool(name, false));
  setenv(name, "0", 1);
  CHECK(!zn_env_bool(name, true));
  setenv(name, "1", 1);
  CHECK(zn_env_bool(name, false));
  setenv(name, "yes", 1);
  CHECK(zn_env_bool(name, true));
  CHECK(!zn_env_bool(name, false));
  unsetenv(name);
}

int zn_test_main(void) {
  test_kib();
  test_bool();
  return 0;
}
