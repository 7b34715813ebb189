/* GPU probe through NVML, loaded at run time with dlopen (never linked, so
 * zenith runs on machines without NVIDIA's driver): utilisation, memory used
 * and power per GPU. Absent, with the reason, when the library, its symbols
 * or a GPU are missing. The few NVML declarations below follow NVIDIA's
 * documented C ABI (nvml.h is not a Debian build dependency). */
#if defined(__linux__)
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "monitor/probe.h"

#define MAX_GPUS 16

typedef int nvml_return; /* nvmlReturn_t; 0 = NVML_SUCCESS */
typedef struct nvml_device *nvml_device;
typedef struct nvml_utilization {
  unsigned int gpu, memory;
} nvml_utilization;
typedef struct nvml_memory {
  unsigned long long total, free, used;
} nvml_memory;

typedef struct gpu_state {
  void *lib;
  bool initialised;
  nvml_return (*shutdown)(void);
  nvml_return (*get_utilization)(nvml_device, nvml_utilization *);
  nvml_return (*get_memory)(nvml_device, nvml_memory *);
  nvml_return (*get_power_mw)(nvml_device, unsigned int *);
  nvml_device dev[MAX_GPUS];
  int num;
  int idx_util[MAX_GPUS], idx_mem[MAX_GPUS], idx_power[MAX_GPUS];
} gpu_state;

static void gpu_close(void *p) {
  gpu_state *s = p;
  if (!s) return;
  if (s->initialised && s->shutdown) s->shutdown();
  if (s->lib) dlclose(s->lib);
  zn_free(s);
}

static zn_status gpu_open(zn_probe_env *env, void **state_out) {
  *state_out = NULL;
  const char *libname = env->options->nvml_library;
  void *lib = dlopen(libname, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    zn_probe_add_source(env, "NVML", false, "%s not loadable: %s", libname, why ? why : "unknown");
    return ZN_OK;
  }
  gpu_state *s = zn_calloc(1, sizeof *s);
  if (!s) {
    dlclose(lib);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  }
  s->lib = lib;
  nvml_return (*init)(void);
  nvml_return (*get_count)(unsigned int *);
  nvml_return (*get_handle)(unsigned int, nvml_device *);
  nvml_return (*get_name)(nvml_device, char *, unsigned int);
  /* POSIX guarantees dlsym's object pointer converts to a function pointer. */
  *(void **)&init = dlsym(lib, "nvmlInit_v2");
  *(void **)&s->shutdown = dlsym(lib, "nvmlShutdown");
  *(void **)&get_count = dlsym(lib, "nvmlDeviceGetCount_v2");
  *(void **)&get_handle = dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
  *(void **)&get_name = dlsym(lib, "nvmlDeviceGetName");
  *(void **)&s->get_utilization = dlsym(lib, "nvmlDeviceGetUtilizationRates");
  *(void **)&s->get_memory = dlsym(lib, "nvmlDeviceGetMemoryInfo");
  *(void **)&s->get_power_mw = dlsym(lib, "nvmlDeviceGetPowerUsage");
  if (!init || !s->shutdown || !get_count || !get_handle || !s->get_utilization || !s->get_memory || !s->get_power_mw) {
    zn_probe_add_source(env, "NVML", false, "%s lacks the NVML functions zenith needs", libname);
    gpu_close(s);
    return ZN_OK;
  }
  nvml_return rc = init();
  if (rc != 0) {
    zn_probe_add_source(env, "NVML", false, "nvmlInit failed (NVML error %d: no driver or no GPU)", rc);
    gpu_close(s);
    return ZN_OK;
  }
  s->initialised = true;
  unsigned int count = 0;
  if (get_count(&count) != 0 || count == 0) {
    zn_probe_add_source(env, "NVML", false, "no GPU");
    gpu_close(s);
    return ZN_OK;
  }
  char names[160] = "";
  size_t nl = 0;
  for (unsigned int i = 0; i < count && s->num < MAX_GPUS; i++) {
    nvml_device d;
    if (get_handle(i, &d) != 0) continue;
    int k = s->num++;
    s->dev[k] = d;
    char gname[96] = "GPU", name[64], src[112];
    if (get_name) get_name(d, gname, sizeof gname);
    gname[sizeof gname - 1] = '\0';
    if (nl < sizeof names) nl += (size_t)snprintf(names + nl, sizeof names - nl, "%s%u: %s", k ? ", " : "", i, gname);
    snprintf(src, sizeof src, "NVML GPU %u %.80s", i, gname);
    nvml_utilization u;
    nvml_memory mem;
    unsigned int mw;
    /* A GPU that cannot report a quantity (NOT_SUPPORTED) gets no channel for it. */
    snprintf(name, sizeof name, "gpu%u.util_pct", i);
    s->idx_util[k] = s->get_utilization(d, &u) == 0 ? zn_probe_add_channel(env, name, "%", ZN_MONITOR_GAUGE, src) : -1;
    snprintf(name, sizeof name, "gpu%u.mem_used_bytes", i);
    s->idx_mem[k] = s->get_memory(d, &mem) == 0 ? zn_probe_add_channel(env, name, "bytes", ZN_MONITOR_GAUGE, src) : -1;
    snprintf(name, sizeof name, "gpu%u.power_w", i);
    s->idx_power[k] = s->get_power_mw(d, &mw) == 0 ? zn_probe_add_channel(env, name, "W", ZN_MONITOR_GAUGE, src) : -1;
  }
  zn_probe_add_source(env, "NVML", s->num > 0, "%s", s->num ? names : "no GPU handle");
  if (s->num == 0) {
    gpu_close(s);
    return ZN_OK;
  }
  *state_out = s;
  return ZN_OK;
}

static void gpu_sample(void *p, zn_probe_env *env, zn_time_ns now, double *row) {
  gpu_state *s = p;
  for (int k = 0; k < s->num; k++) {
    nvml_utilization u;
    nvml_memory mem;
    unsigned int mw;
    if (s->idx_util[k] >= 0 && s->get_utilization(s->dev[k], &u) == 0) row[s->idx_util[k]] = u.gpu;
    if (s->idx_mem[k] >= 0 && s->get_memory(s->dev[k], &mem) == 0) row[s->idx_mem[k]] = (double)mem.used;
    if (s->idx_power[k] >= 0 && s->get_power_mw(s->dev[k], &mw) == 0) row[s->idx_power[k]] = mw * 1e-3;
  }
}

const zn_probe_ops zn_probe_gpu_ops = {gpu_open, gpu_sample, gpu_close};
#endif
