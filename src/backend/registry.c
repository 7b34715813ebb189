/* The static backend registry and "auto" resolution. */
#include "backend/backend.h"

#include <string.h>

extern const zn_backend_ops zn_backend_ref;
#if ZN_HAVE_ONEDNN
extern const zn_backend_ops zn_backend_onednn;
#endif
#if ZN_HAVE_XNNPACK
extern const zn_backend_ops zn_backend_xnnpack;
#endif

static const zn_backend_ops *const registry[] = {
    &zn_backend_ref,
#if ZN_HAVE_ONEDNN
    &zn_backend_onednn,
#endif
#if ZN_HAVE_XNNPACK
    &zn_backend_xnnpack,
#endif
};

const zn_backend_ops *zn_backend_at(size_t i) { return i < ZN_ARRAY_SIZE(registry) ? registry[i] : NULL; }

const zn_backend_ops *zn_backend_find(const char *name) {
  const char *resolved = zn_backend_resolve(name);
  for (size_t i = 0; i < ZN_ARRAY_SIZE(registry); i++)
    if (strcmp(registry[i]->name, resolved) == 0) return registry[i];
  return NULL;
}

ZN_PUBLIC size_t zn_backend_count(void) { return ZN_ARRAY_SIZE(registry); }
ZN_PUBLIC const char *zn_backend_name(size_t i) { return i < ZN_ARRAY_SIZE(registry) ? registry[i]->name : NULL; }

static bool usable(const zn_backend_ops *b) { return b && (!b->available || b->available()); }

ZN_PUBLIC const char *zn_backend_resolve(const char *name) {
  if (name && name[0] && strcmp(name, "auto") != 0) return name;
  /* auto: oneDNN on x86-64, XNNPACK elsewhere, ref as the last resort. */
  const char *order[] = {
#if defined(__x86_64__)
      "onednn", "xnnpack",
#else
      "xnnpack", "onednn",
#endif
      "ref"};
  for (size_t k = 0; k < ZN_ARRAY_SIZE(order); k++)
    for (size_t i = 0; i < ZN_ARRAY_SIZE(registry); i++)
      if (strcmp(registry[i]->name, order[k]) == 0 && usable(registry[i])) return registry[i]->name;
  return "ref";
}
