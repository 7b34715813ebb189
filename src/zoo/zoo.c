/* The zoo's registry: names, display names and input sizes of the nine thesis
 * models, with parameter and MAC counts computed once (pthread_once) by a
 * counting pass of the same builder code that makes the graphs, so the figures
 * can never drift from the networks. */
#include "zoo/zoo.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "zoo/layers.h"

typedef struct model {
  zn_zoo_entry entry;
  zn_status (*build)(zn_zoo_builder *b);
} model;

/* The thesis's Table 1.3 order. Counts are filled by count_all(). */
static model models[] = {
    {{"alexnet", "AlexNet", 224, 0, 0}, zn_zoo_build_alexnet},
    {{"densenet161", "DenseNet-161", 224, 0, 0}, zn_zoo_build_densenet161},
    {{"inception_v3", "Inception-V3", 299, 0, 0}, zn_zoo_build_inception_v3},
    {{"mobilenet_v1", "MobileNet-V1", 224, 0, 0}, zn_zoo_build_mobilenet_v1},
    {{"mobilenet_v2", "MobileNet-V2", 224, 0, 0}, zn_zoo_build_mobilenet_v2},
    {{"resnet18", "ResNet-18", 224, 0, 0}, zn_zoo_build_resnet18},
    {{"resnet50", "ResNet-50", 224, 0, 0}, zn_zoo_build_resnet50},
    {{"squeezenet1_1", "SqueezeNet 1.1", 224, 0, 0}, zn_zoo_build_squeezenet1_1},
    {{"vgg16", "VGG-16", 224, 0, 0}, zn_zoo_build_vgg16},
};

static pthread_once_t counted = PTHREAD_ONCE_INIT;

/* A counting pass allocates nothing, so it can only fail on a builder bug;
 * then the entry reports -1. */
static void count_all(void) {
  for (size_t i = 0; i < ZN_ARRAY_SIZE(models); i++) {
    zn_zoo_builder b;
    zn_zoo_builder_init(&b, NULL, 0);
    bool ok = models[i].build(&b) == ZN_OK;
    models[i].entry.num_params = ok ? b.num_params : -1;
    models[i].entry.macs_per_image = ok ? b.macs_per_image : -1;
  }
}

ZN_PUBLIC size_t zn_zoo_count(void) { return ZN_ARRAY_SIZE(models); }

ZN_PUBLIC const zn_zoo_entry *zn_zoo_get(size_t i) {
  if (i >= ZN_ARRAY_SIZE(models)) return NULL;
  pthread_once(&counted, count_all);
  return &models[i].entry;
}

static const model *find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < ZN_ARRAY_SIZE(models); i++)
    if (strcmp(models[i].entry.name, name) == 0) return &models[i];
  return NULL;
}

ZN_PUBLIC const zn_zoo_entry *zn_zoo_find(const char *name) {
  const model *m = find(name);
  if (!m) return NULL;
  pthread_once(&counted, count_all);
  return &m->entry;
}

zn_status zn_zoo_build(const char *name, uint64_t seed, zn_graph **out) {
  if (!out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to build zoo model: out is NULL");
  *out = NULL;
  const model *m = find(name);
  if (!m) {
    char valid[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < ZN_ARRAY_SIZE(models) && used < sizeof valid; i++) {
      int n = snprintf(valid + used, sizeof valid - used, "%s%s", i ? ", " : "", models[i].entry.name);
      if (n > 0) used += (size_t)n;
    }
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to build zoo model '%s': unknown name (valid: %s)",
                    name ? name : "(null)", valid);
  }
  zn_graph *g;
  ZN_TRY(zn_graph_create(&g));
  g->opset = 13;
  g->name = zn_strdup(m->entry.name);
  if (!g->name) {
    zn_graph_destroy(g);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to build zoo model '%s': out of memory", m->entry.name);
  }
  zn_zoo_builder b;
  zn_zoo_builder_init(&b, g, seed);
  zn_status st = m->build(&b);
  if (st != ZN_OK) {
    zn_graph_destroy(g);
    return zn_error_prefix(st, "building zoo model '%s': ", m->entry.name);
  }
  *out = g;
  return ZN_OK;
}
