/* The zoo's nine models: each builds, verifies and infers to logits [N,1000];
 * its parameters and MACs, counted here from the inferred graph and by the
 * graph layer, equal the registry's figures and lie within 1% of the
 * torchvision 0.14 counts in shared/MODELS.md (both printed); the ops are the
 * ones PyTorch's exporter writes, with the attributes asked for; the same seed
 * gives the same weight bytes and another seed others. VGG-16 (553 MB of
 * weights) is built once. ZN_TEST_SLOW: about 600M synthetic weights drawn. */
#include "zoo_checks.h"

int zn_test_main(void) {
  CHECK_EQ_INT(zn_zoo_count(), sizeof refs / sizeof refs[0]);
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    const zn_zoo_entry *e = zn_zoo_get(i);
    CHECK(e && strcmp(e->name, refs[i].name) == 0);
    check_model(&refs[i], strcmp(refs[i].name, "vgg16") != 0);
  }
  return 0;
}
