/* zn_instance_profile: one run with every backend step timed, returned as a
 * zn_profile the caller frees. The backend times its steps (backend.h,
 * instance_run_profiled) and then names each step's kernel and graph nodes;
 * this file copies that into memory the profile owns, adds the MACs of the
 * covered nodes and lists the nodes no step runs (folded away at compile). */
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "core/time.h"
#include "runtime/model.h"

struct zn_profile {
  size_t num_steps;
  zn_profile_step_info *steps;
  size_t num_unstepped;
  const char **unstepped_names;    /* points into names / ops below */
  const char **unstepped_ops;
  const char **names;              /* every node name a step or the unstepped list refers to */
  const char **ops;                /* op types: static text from zn_op_name */
  char *text;                      /* kernel texts and node names, NUL-separated */
  double total_seconds;
};

ZN_PUBLIC void zn_profile_destroy(zn_profile *p) {
  if (!p) return;
  zn_free(p->steps);
  zn_free(p->names);
  zn_free(p->ops);
  zn_free(p->text);
  zn_free(p);
}

ZN_PUBLIC size_t zn_profile_num_steps(const zn_profile *p) { return p ? p->num_steps : 0; }

ZN_PUBLIC zn_status zn_profile_step(const zn_profile *p, size_t i, zn_profile_step_info *info_out) {
  if (!p || !info_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to read profile step: NULL argument");
  if (i >= p->num_steps)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to read profile step %zu: the profile has %zu steps", i,
                    p->num_steps);
  *info_out = p->steps[i];
  return ZN_OK;
}

ZN_PUBLIC size_t zn_profile_num_unstepped_nodes(const zn_profile *p) { return p ? p->num_unstepped : 0; }

ZN_PUBLIC const char *zn_profile_unstepped_node_name(const zn_profile *p, size_t i) {
  return p && i < p->num_unstepped ? p->unstepped_names[i] : NULL;
}

ZN_PUBLIC const char *zn_profile_unstepped_op_type(const zn_profile *p, size_t i) {
  return p && i < p->num_unstepped ? p->unstepped_ops[i] : NULL;
}

ZN_PUBLIC double zn_profile_total_seconds(const zn_profile *p) { return p ? p->total_seconds : 0.0; }

static char *put_text(char **cursor, const char *s) {
  char *at = *cursor;
  size_t n = strlen(s) + 1;
  memcpy(at, s, n);
  *cursor += n;
  return at;
}

/* Build the profile from the backend's steps and times (after the run). */
static zn_status build(const zn_instance *inst, const zn_backend_step *bs, const int64_t *step_ns, int num_steps,
                       double total_seconds, zn_profile **out) {
  const zn_graph *g = inst->model->graph;
  zn_status st = ZN_OK;
  zn_profile *p = zn_calloc(1, sizeof *p);
  bool *covered = zn_calloc((size_t)g->num_nodes + 1, sizeof *covered);
  if (!p || !covered) goto oom;
  size_t refs = 0, text_bytes = 1;
  for (int i = 0; i < num_steps; i++) {
    text_bytes += strlen(bs[i].kernel) + 1;
    for (int k = 0; k < bs[i].num_nodes; k++) {
      const int node = bs[i].nodes[k];
      if (node < 0 || node >= g->num_nodes) {
        st = zn_error(ZN_ERR_INTERNAL, "failed to profile instance: step %d names node %d of %d", i, node,
                      g->num_nodes);
        goto fail;
      }
      covered[node] = true;
      text_bytes += strlen(g->nodes[node].name) + 1;
      refs++;
    }
  }
  for (int j = 0; j < g->num_nodes; j++)
    if (!covered[j]) {
      text_bytes += strlen(g->nodes[j].name) + 1;
      refs++;
    }
  p->steps = zn_calloc((size_t)num_steps + 1, sizeof *p->steps);
  p->names = zn_calloc(refs + 1, sizeof *p->names);
  p->ops = zn_calloc(refs + 1, sizeof *p->ops);
  p->text = zn_malloc(text_bytes);
  if (!p->steps || !p->names || !p->ops || !p->text) goto oom;
  char *cursor = p->text;
  size_t r = 0;
  for (int i = 0; i < num_steps; i++) {
    zn_profile_step_info *s = &p->steps[i];
    s->kernel = put_text(&cursor, bs[i].kernel);
    s->num_nodes = bs[i].num_nodes;
    s->node_names = p->names + r;
    s->op_types = p->ops + r;
    s->seconds = (double)(step_ns[i] > 0 ? step_ns[i] : 0) * 1e-9;
    for (int k = 0; k < bs[i].num_nodes; k++, r++) {
      const zn_node *n = &g->nodes[bs[i].nodes[k]];
      p->names[r] = put_text(&cursor, n->name);
      p->ops[r] = zn_op_name(n->op);
      int64_t macs = zn_node_macs_per_image(g, n), total;
      if (macs > 0 && !__builtin_mul_overflow(macs, inst->batch, &total)) s->macs += total;
    }
  }
  p->unstepped_names = p->names + r;
  p->unstepped_ops = p->ops + r;
  for (int j = 0; j < g->num_nodes; j++)
    if (!covered[j]) {
      p->names[r] = put_text(&cursor, g->nodes[j].name);
      p->ops[r++] = zn_op_name(g->nodes[j].op);
      p->num_unstepped++;
    }
  p->num_steps = (size_t)num_steps;
  p->total_seconds = total_seconds;
  zn_free(covered);
  *out = p;
  return ZN_OK;
oom:
  st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to profile instance: out of memory");
fail:
  zn_free(covered);
  zn_profile_destroy(p);
  return st;
}

ZN_PUBLIC zn_status zn_instance_profile(zn_instance *inst, const void *const *inputs, void *const *outputs,
                                        zn_profile **profile_out) {
  if (!profile_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to profile instance: profile_out is NULL");
  *profile_out = NULL;
  ZN_TRY(zn_instance_check_run(inst, inputs, outputs));
  const zn_backend_ops *b = inst->model->backend;
  if (!b->instance_num_steps || !b->instance_run_profiled || !b->instance_step)
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to profile instance: backend '%s' has no per-step profile",
                    inst->model->backend_name);
  const int num_steps = b->instance_num_steps(inst->backend_instance);
  if (num_steps < 0) return zn_error(ZN_ERR_INTERNAL, "failed to profile instance: backend '%s' gave %d steps",
                                     inst->model->backend_name, num_steps);
  int64_t *step_ns = zn_calloc((size_t)num_steps + 1, sizeof *step_ns);
  zn_backend_step *bs = zn_calloc((size_t)num_steps + 1, sizeof *bs);
  zn_status st = ZN_OK;
  if (!step_ns || !bs) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to profile instance: out of memory");
    goto done;
  }
  const zn_time_ns t0 = zn_now_ns();
  st = b->instance_run_profiled(inst->backend_instance, inputs, outputs, step_ns);
  const double total = (double)(zn_now_ns() - t0) * 1e-9;
  if (st != ZN_OK) goto done;
  for (int i = 0; i < num_steps; i++) b->instance_step(inst->backend_instance, i, &bs[i]);
  st = build(inst, bs, step_ns, num_steps, total, profile_out);
done:
  zn_free(step_ns);
  zn_free(bs);
  return st;
}
