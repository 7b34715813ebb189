/* The static backend registry, "auto" resolution and refusal reasons. */
#include "backend/backend.h"

#include <stdarg.h>
#include <stdio.h>
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

size_t zn_backend_auto_order(const zn_backend_ops **out, size_t cap) {
  /* oneDNN on x86-64, XNNPACK elsewhere, ref as the last resort. */
  const char *order[] = {
#if defined(__x86_64__)
      "onednn", "xnnpack",
#else
      "xnnpack", "onednn",
#endif
      "ref"};
  size_t n = 0;
  for (size_t k = 0; k < ZN_ARRAY_SIZE(order); k++)
    for (size_t i = 0; i < ZN_ARRAY_SIZE(registry); i++)
      if (strcmp(registry[i]->name, order[k]) == 0 && usable(registry[i]) && n < cap) out[n++] = registry[i];
  return n;
}

ZN_PUBLIC const char *zn_backend_resolve(const char *name) {
  if (name && name[0] && strcmp(name, "auto") != 0) return name;
  const zn_backend_ops *first[1];
  return zn_backend_auto_order(first, 1) ? first[0]->name : "ref";
}

bool zn_backend_refuse(char *why, size_t why_size, const char *fmt, ...) {
  if (why && why_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
  }
  return false;
}
