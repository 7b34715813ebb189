/* An instance whose inputs and outputs, or whose arena, would not fit the
 * memory limit (ZN_MEMORY_LIMIT_KIB, default: the memory available) is
 * refused at create with both sizes named, through the public API; the same
 * model then runs once the limit allows it. */
#include <stdlib.h>

#include "harness.h"
#include "zenith.h"

static zn_status create(const zn_model *m, int64_t batch, zn_instance **inst) {
  zn_instance_options io = zn_instance_options_default();
  io.batch = batch;
  return zn_instance_create(m, &io, inst);
}

int zn_test_main(void) {
  zn_model_options o = zn_model_options_default();
  o.backend = "ref";
  zn_model *m = NULL;
  CHECK_OK(zn_model_from_zoo("squeezenet1_1", 1, &o, &m));
  if (!m) return 0;
  zn_instance *inst = NULL;
  /* input 3x224x224 floats (588 KiB) + 1000 logits (3.9 KiB) */
  setenv("ZN_MEMORY_LIMIT_KIB", "500", 1);
  CHECK_STATUS(create(m, 1, &inst), ZN_ERR_OUT_OF_MEMORY);
  CHECK(inst == NULL);
  CHECK_ERROR_HAS("batch 1: 591.9 KiB of inputs and outputs, more than the 500.0 KiB allowed by ZN_MEMORY_LIMIT_KIB");
  /* the I/O fits, the activations (several MiB) do not */
  setenv("ZN_MEMORY_LIMIT_KIB", "600", 1);
  CHECK_STATUS(create(m, 1, &inst), ZN_ERR_OUT_OF_MEMORY);
  CHECK_ERROR_HAS("of activations, more than the 600.0 KiB allowed by ZN_MEMORY_LIMIT_KIB");
  setenv("ZN_MEMORY_LIMIT_KIB", "0", 1); /* no limit */
  CHECK_OK(create(m, 2, &inst));
  /* a reshape past the limit leaves the instance unrunnable, not half-sized */
  setenv("ZN_MEMORY_LIMIT_KIB", "600", 1);
  CHECK_STATUS(zn_instance_reshape(inst, 1), ZN_ERR_OUT_OF_MEMORY);
  CHECK_EQ_INT(zn_instance_batch(inst), 0);
  unsetenv("ZN_MEMORY_LIMIT_KIB");
  CHECK_OK(zn_instance_reshape(inst, 1));
  CHECK_EQ_INT(zn_instance_batch(inst), 1);
  zn_instance_destroy(inst);
  zn_model_destroy(m);
  return 0;
}
