/* onednn backend, weights the compiled model shares with its instances:
 * besides the pack made at compile, a primitive for another batch or thread
 * count may prefer another layout (2-thread 1x1 convs want Acdb64a where the
 * 1-thread pack is Acdb48a). Such a layout is made once, at reshape, under
 * the compiled model's lock, and every instance borrows it read-only; so 8
 * instances of 2 threads hold one copy, not 8 (docs/internals/onednn.md). */
#include <string.h>

#include "backend/onednn/onednn.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/status.h"

static bool is_wino_format(const dnnl_memory_desc_t *md) { return md->format_kind == dnnl_format_kind_wino; }

/* A flatten-folded inner product's weights between its 4-D and 2-D forms
 * (zn_onednn_ip_flat): through one dense buffer, acdb as 4-D, ab as 2-D. */
static zn_status across_ranks(const odn_compiled *c, const odn_op *op, const dnnl_memory_desc_t *md, void *dst) {
  dnnl_memory_desc_t md4, md2;
  zn_onednn_ip_flat_mds(c, op, &md4, &md2);
  const bool to_2d = md->ndims == 2;
  void *tmp = zn_alloc_aligned(dnnl_memory_desc_get_size(&md4));
  if (!tmp) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add a weights layout: out of memory");
  zn_status st = zn_onednn_reorder_now(c->engine, &op->wmd, op->wdata, to_2d ? &md4 : &md2, tmp);
  if (st == ZN_OK) st = zn_onednn_reorder_now(c->engine, to_2d ? &md2 : &md4, tmp, md, dst);
  zn_free_aligned(tmp);
  return st;
}

zn_status zn_onednn_weights_get(const odn_compiled *cc, int op_index, const dnnl_memory_desc_t *md, void **data_out) {
  odn_compiled *c = (odn_compiled *)cc;  /* only the lock-guarded fields are written */
  odn_op *op = &c->ops[op_index];
  *data_out = NULL;
  if (dnnl_memory_desc_equal(md, &op->wmd)) {
    *data_out = op->wdata;
    return ZN_OK;
  }
  zn_status st = ZN_OK;
  pthread_mutex_lock(&c->lock);
  for (odn_wlayout *l = op->layouts; l; l = l->next)
    if (dnnl_memory_desc_equal(md, &l->md)) {
      *data_out = l->data;
      goto done;
    }
  odn_wlayout *l = zn_calloc(1, sizeof *l);
  if (!l) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add a weights layout: out of memory");
    goto done;
  }
  l->md = *md;
  l->bytes = dnnl_memory_desc_get_size(md);
  l->data = zn_alloc_aligned(l->bytes ? l->bytes : 64);
  if (!l->data) {
    zn_free(l);
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add a weights layout: out of memory");
    goto done;
  }
  /* oneDNN cannot reorder out of a Winograd format: those convs re-pack
   * from the graph's f32 weights, which they keep (constant_releasable) */
  st = op->wino || is_wino_format(&op->wmd)  ? zn_onednn_pack_weights(c, op, md, l->data)
       : md->ndims != op->wmd.ndims         ? across_ranks(c, op, md, l->data)
                                             : zn_onednn_reorder_now(c->engine, &op->wmd, op->wdata, md, l->data);
  if (st != ZN_OK) {
    zn_free_aligned(l->data);
    zn_free(l);
    goto done;
  }
  l->next = op->layouts;
  op->layouts = l;
  c->weight_bytes += l->bytes;
  c->num_extra_layouts++;
  *data_out = l->data;
  zn_log_info("onednn: node %s: another weights layout, %zu bytes, shared by instances", c->g->nodes[op->node].name,
              l->bytes);
done:
  pthread_mutex_unlock(&c->lock);
  return st;
}

void zn_onednn_weights_release(odn_compiled *c) {
  for (int i = 0; i < c->num_ops; i++) {
    odn_wlayout *l = c->ops[i].layouts;
    while (l) {
      odn_wlayout *next = l->next;
      zn_free_aligned(l->data);
      zn_free(l);
      l = next;
    }
    c->ops[i].layouts = NULL;
  }
}

size_t zn_onednn_weight_bytes_locked(const odn_compiled *cc) {
  odn_compiled *c = (odn_compiled *)cc;
  pthread_mutex_lock(&c->lock);
  size_t bytes = c->weight_bytes;
  pthread_mutex_unlock(&c->lock);
  return bytes;
}
