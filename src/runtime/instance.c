/* zn_instance: one batch size, one arena, run by one thread at a time.
 * Sizes are checked here (batch bounds, byte counts without overflow) so the
 * backends receive only sane requests. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "runtime/model.h"

ZN_PUBLIC zn_instance_options zn_instance_options_default(void) {
  zn_instance_options o;
  memset(&o, 0, sizeof o);
  o.batch = 1;
  o.num_threads = 1;
  return o;
}

ZN_PUBLIC void zn_instance_destroy(zn_instance *inst) {
  if (!inst) return;
  bool big = zn_instance_arena_bytes(inst) >= ZN_TRIM_MIN_BYTES;
  if (inst->backend_instance) inst->model->backend->instance_destroy(inst->backend_instance);
  zn_free(inst->input_bytes);
  zn_free(inst->output_bytes);
  zn_free(inst);
  if (big) zn_runtime_trim_heap();
}

static zn_status value_bytes(const zn_graph *g, int id, int64_t batch, size_t *out) {
  const zn_value *v = &g->values[id];
  int64_t count;
  size_t bytes;
  if (!zn_value_num_elements(v, batch, &count) || !zn_size_mul((size_t)count, zn_dtype_size(v->dtype), &bytes))
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to size tensor '%s' at batch %lld: too large", v->name,
                    (long long)batch);
  *out = bytes;
  return ZN_OK;
}

static zn_status check_batch(const zn_model *m, int64_t batch) {
  if (batch < 1 || batch > ZN_MAX_BATCH)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "batch size %lld out of range [1, %d]", (long long)batch, ZN_MAX_BATCH);
  if (batch != 1 && m->graph->static_batch)
    return zn_error(ZN_ERR_INVALID_ARGUMENT,
                    "batch size %lld: this model's graph fixes the batch to 1 (its shapes do not carry a batch dimension)",
                    (long long)batch);
  return ZN_OK;
}

ZN_PUBLIC zn_status zn_instance_reshape(zn_instance *inst, int64_t batch) {
  if (!inst) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to reshape instance: NULL");
  const zn_model *m = inst->model;
  const zn_graph *g = m->graph;
  zn_status st = check_batch(m, batch);
  if (st != ZN_OK) return zn_error_prefix(st, "failed to reshape instance: ");
  for (int i = 0; i < g->num_inputs; i++) ZN_TRY(value_bytes(g, g->inputs[i], batch, &inst->input_bytes[i]));
  for (int i = 0; i < g->num_outputs; i++) ZN_TRY(value_bytes(g, g->outputs[i], batch, &inst->output_bytes[i]));
  /* The caller allocates these buffers: a model whose outputs alone exceed
   * the machine is refused before anyone tries. */
  size_t io = 0;
  for (int i = 0; i < g->num_inputs; i++)
    if (!zn_size_add(io, inst->input_bytes[i], &io)) io = SIZE_MAX;
  for (int i = 0; i < g->num_outputs; i++)
    if (!zn_size_add(io, inst->output_bytes[i], &io)) io = SIZE_MAX;
  char doing[64];
  snprintf(doing, sizeof doing, "failed to reshape instance to batch %lld", (long long)batch);
  ZN_TRY(zn_memory_check(io, doing, "of inputs and outputs"));
  inst->batch = 0; /* not runnable until the backend succeeds */
  st = m->backend->instance_reshape(inst->backend_instance, batch);
  if (st != ZN_OK) return zn_error_prefix(st, "failed to reshape instance to batch %lld: ", (long long)batch);
  inst->batch = batch;
  return ZN_OK;
}

ZN_PUBLIC zn_status zn_instance_create(const zn_model *m, const zn_instance_options *opts, zn_instance **out) {
  if (!out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create instance: instance_out is NULL");
  *out = NULL;
  if (!m) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create instance: model is NULL");
  zn_instance_options defaults = zn_instance_options_default();
  if (!opts) opts = &defaults;
  int64_t batch = opts->batch ? opts->batch : 1;
  int threads = opts->num_threads ? opts->num_threads : 1;
  if (threads < 1 || threads > 1024)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create instance: %d threads out of range [1, 1024]", threads);
  if (opts->num_cpus < 0 || (opts->num_cpus > 0 && !opts->cpus))
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create instance: bad CPU list");
  zn_status st = check_batch(m, batch);
  if (st != ZN_OK) return zn_error_prefix(st, "failed to create instance: ");

  zn_instance *inst = zn_calloc(1, sizeof(zn_instance));
  if (!inst) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create instance: out of memory");
  inst->model = m;
  inst->input_bytes = zn_calloc((size_t)m->graph->num_inputs + 1, sizeof(size_t));
  inst->output_bytes = zn_calloc((size_t)m->graph->num_outputs + 1, sizeof(size_t));
  if (!inst->input_bytes || !inst->output_bytes) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create instance: out of memory");
    goto fail;
  }
  zn_backend_instance_options bo = {.num_threads = threads, .cpus = opts->cpus, .num_cpus = opts->num_cpus};
  if ((st = m->backend->instance_create(m->compiled, &bo, &inst->backend_instance)) != ZN_OK) goto fail;
  if ((st = zn_instance_reshape(inst, batch)) != ZN_OK) goto fail;
  *out = inst;
  return ZN_OK;
fail:
  zn_instance_destroy(inst);
  return st;
}

ZN_PUBLIC int64_t zn_instance_batch(const zn_instance *inst) { return inst ? inst->batch : 0; }

ZN_PUBLIC size_t zn_instance_arena_bytes(const zn_instance *inst) {
  if (!inst || !inst->model->backend->instance_arena_bytes) return 0;
  return inst->model->backend->instance_arena_bytes(inst->backend_instance);
}

ZN_PUBLIC size_t zn_instance_input_bytes(const zn_instance *inst, size_t i) {
  return inst && i < (size_t)inst->model->graph->num_inputs ? inst->input_bytes[i] : 0;
}

ZN_PUBLIC size_t zn_instance_output_bytes(const zn_instance *inst, size_t i) {
  return inst && i < (size_t)inst->model->graph->num_outputs ? inst->output_bytes[i] : 0;
}

zn_status zn_instance_check_run(const zn_instance *inst, const void *const *inputs, void *const *outputs) {
  if (!inst || !inputs || !outputs) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run instance: NULL argument");
  if (inst->batch == 0)
    return zn_error(ZN_ERR_INVALID_STATE, "failed to run instance: the last reshape failed; reshape again first");
  const zn_graph *g = inst->model->graph;
  for (int i = 0; i < g->num_inputs; i++)
    if (!inputs[i] && inst->input_bytes[i])
      return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run instance: input %d ('%s') is NULL", i,
                      g->values[g->inputs[i]].name);
  for (int i = 0; i < g->num_outputs; i++)
    if (!outputs[i] && inst->output_bytes[i])
      return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run instance: output %d ('%s') is NULL", i,
                      g->values[g->outputs[i]].name);
  return ZN_OK;
}

ZN_PUBLIC zn_status zn_instance_run(zn_instance *inst, const void *const *inputs, void *const *outputs) {
  ZN_TRY(zn_instance_check_run(inst, inputs, outputs));
  return inst->model->backend->instance_run(inst->backend_instance, inputs, outputs);
}
