/* A set of 64-bit fingerprints in flat open-addressing tables: about 11 to 16 bytes a state.
 *
 * The checker's visited set (model_check/fptable.py is the numpy version, used when this module
 * is not built). Fingerprints are spread by Fibonacci hashing; the top 8 bits choose one of 256
 * segments, the next 32 the home slot in it (scaled to the segment's size, which need not be a
 * power of two), and linear probing resolves collisions. A segment grows by half when it is
 * three quarters full, so a table is between half and three quarters full, and a growth needs
 * only one segment's worth of extra memory at a time (a single table doubling would need three
 * times its size for a moment: the peak resident memory is what counts). Slot value 0 marks an
 * empty slot; the fingerprint 0 itself is remembered by a flag.
 *
 * Also here: `Router`, which sends a shard's candidates to their owners (model_check/packed.py).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SEGBITS 8
#define NSEG (1 << SEGBITS)
#define MINCAP 16
#define PREFETCH 16 /* fingerprints ahead whose home slot is fetched while one is probed */

static const uint64_t GOLDEN = 0x9E3779B97F4A7C15ULL;

typedef struct {
    uint64_t *slots;
    uint32_t cap, count;
} Seg;

typedef struct {
    PyObject_HEAD Seg seg[NSEG];
    uint64_t count;
    int has_zero;
} FpSetObject;

static inline uint32_t home(const Seg *s, uint64_t h) {
    uint32_t below = (uint32_t)(h >> (32 - SEGBITS));
    return (uint32_t)(((uint64_t)below * s->cap) >> 32);
}

/* 1: inserted, 0: already there. The segment has room. */
static inline int seg_insert(Seg *s, uint64_t fp, uint64_t h) {
    uint32_t i = home(s, h);
    for (;;) {
        uint64_t v = s->slots[i];
        if (v == fp) return 0;
        if (!v) {
            s->slots[i] = fp;
            s->count++;
            return 1;
        }
        if (++i == s->cap) i = 0;
    }
}

static int seg_grow(Seg *s) {
    uint64_t cap = s->cap ? (uint64_t)s->cap + s->cap / 2 : MINCAP;
    if (cap > 0xFFFFFFF0ULL) return -1;
    uint64_t *old = s->slots;
    uint32_t oldcap = s->cap;
    s->slots = calloc((size_t)cap, sizeof(uint64_t));
    if (!s->slots) {
        s->slots = old;
        return -1;
    }
    s->cap = (uint32_t)cap;
    s->count = 0;
    for (uint32_t k = 0; k < oldcap; k++)
        if (old[k]) seg_insert(s, old[k], old[k] * GOLDEN);
    free(old);
    return 0;
}

static int FpSet_init(FpSetObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "", names)) return -1;
    for (int k = 0; k < NSEG; k++) {
        free(self->seg[k].slots);
        self->seg[k].slots = NULL;
        self->seg[k].cap = self->seg[k].count = 0;
        if (seg_grow(&self->seg[k]) < 0) {
            PyErr_NoMemory();
            return -1;
        }
    }
    self->count = 0;
    self->has_zero = 0;
    return 0;
}

static void FpSet_dealloc(FpSetObject *self) {
    for (int k = 0; k < NSEG; k++) free(self->seg[k].slots);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* add(fps) -> bytes: one byte per fingerprint (an int64 buffer), 1 where it was not in the set
 * (the first of several equal ones in the batch counts as new, the others not). */
static PyObject *FpSet_add(FpSetObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len % 8) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "fingerprints are 8-byte integers");
        return NULL;
    }
    Py_ssize_t n = view.len / 8;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (!out) {
        PyBuffer_Release(&view);
        return NULL;
    }
    uint8_t *mask = (uint8_t *)PyBytes_AS_STRING(out);
    const uint64_t *fps = view.buf;
    int failed = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + PREFETCH < n) {
            uint64_t h = fps[i + PREFETCH] * GOLDEN;
            const Seg *s = &self->seg[h >> (64 - SEGBITS)];
            __builtin_prefetch(&s->slots[home(s, h)], 1);
        }
        uint64_t fp = fps[i];
        if (!fp) {
            mask[i] = !self->has_zero;
            self->count += mask[i];
            self->has_zero = 1;
            continue;
        }
        uint64_t h = fp * GOLDEN;
        Seg *s = &self->seg[h >> (64 - SEGBITS)];
        if (((uint64_t)s->count + 1) * 4 > (uint64_t)s->cap * 3 && seg_grow(s) < 0) {
            failed = 1;
            break;
        }
        mask[i] = (uint8_t)seg_insert(s, fp, h);
        self->count += mask[i];
    }
    PyBuffer_Release(&view);
    if (failed) {
        Py_DECREF(out);
        return PyErr_NoMemory();
    }
    return out;
}

static PyObject *FpSet_contains(FpSetObject *self, PyObject *arg) {
    unsigned long long fp = PyLong_AsUnsignedLongLongMask(arg);
    if (fp == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
    if (!fp) return PyBool_FromLong(self->has_zero);
    uint64_t h = fp * GOLDEN;
    const Seg *s = &self->seg[h >> (64 - SEGBITS)];
    if (!s->cap) Py_RETURN_FALSE;
    for (uint32_t i = home(s, h);;) {
        uint64_t v = s->slots[i];
        if (v == fp) Py_RETURN_TRUE;
        if (!v) Py_RETURN_FALSE;
        if (++i == s->cap) i = 0;
    }
}

/* values() -> bytes: every fingerprint in the set, as int64. */
static PyObject *FpSet_values(FpSetObject *self, PyObject *unused) {
    (void)unused;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(8 * self->count));
    if (!out) return NULL;
    uint64_t *dst = (uint64_t *)PyBytes_AS_STRING(out);
    for (int k = 0; k < NSEG; k++)
        for (uint32_t i = 0; i < self->seg[k].cap; i++)
            if (self->seg[k].slots[i]) *dst++ = self->seg[k].slots[i];
    if (self->has_zero) *dst++ = 0;
    return out;
}

static PyObject *FpSet_nbytes(FpSetObject *self, void *closure) {
    (void)closure;
    uint64_t total = 0;
    for (int k = 0; k < NSEG; k++) total += 8ULL * self->seg[k].cap;
    return PyLong_FromUnsignedLongLong(total);
}

static Py_ssize_t FpSet_len(FpSetObject *self) { return (Py_ssize_t)self->count; }

static PyMethodDef FpSet_methods[] = {
    {"add", (PyCFunction)FpSet_add, METH_O, "add a batch of int64 fingerprints; 1 where new"},
    {"contains", (PyCFunction)FpSet_contains, METH_O, "whether a fingerprint is in the set"},
    {"values", (PyCFunction)FpSet_values, METH_NOARGS, "every fingerprint, as int64 bytes"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef FpSet_getset[] = {
    {"nbytes", (getter)FpSet_nbytes, NULL, "bytes held by the slots", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods FpSet_as_sequence = {.sq_length = (lenfunc)FpSet_len};

static PyTypeObject FpSetType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "electorate.model_check._fpset.FpSet",
    .tp_basicsize = sizeof(FpSetObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A set of 64-bit fingerprints in flat tables.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)FpSet_init,
    .tp_dealloc = (destructor)FpSet_dealloc,
    .tp_methods = FpSet_methods,
    .tp_getset = FpSet_getset,
    .tp_as_sequence = &FpSet_as_sequence,
};


/* ---- Router: a shard's candidates, grouped by owning shard -------------------------------------
 *
 * owner(fp) = bits 32-63 of the fingerprint scaled to the number of shards (fptable.owner).
 * A candidate whose fingerprint this shard sent before (this round or any earlier one) is left
 * out: its owner has it, or has it earlier in its queue, and keeps the first submission of a
 * fingerprint only. A direct-mapped cache of sent fingerprints finds most such repeats (a state
 * is generated about a dozen times, mostly from nearby states); those it misses are sent again
 * and recognised by the owner's table. */

typedef struct {
    PyObject_HEAD int count;
    int bits;
    uint64_t *cache;
} RouterObject;

static int Router_init(RouterObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"count", "cache_bits", NULL};
    int count, bits;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ii", names, &count, &bits)) return -1;
    if (count < 1 || count > 255 || bits < 1 || bits > 30) {
        PyErr_SetString(PyExc_ValueError, "1 to 255 shards and a cache of 2**1 to 2**30 slots");
        return -1;
    }
    free(self->cache);
    self->cache = calloc((size_t)1 << bits, sizeof(uint64_t));
    if (!self->cache) {
        PyErr_NoMemory();
        return -1;
    }
    self->count = count;
    self->bits = bits;
    return 0;
}

static void Router_dealloc(RouterObject *self) {
    free(self->cache);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* route(rows, fps, parents, words) -> [a blob for each owner]: candidates in generation order,
 * as rows of `words` words, int64 fingerprints and int64 parent fingerprints; each owner's
 * share keeps that order, repeats left out, in one bytes object: rows, fingerprints, parents. */
static PyObject *Router_route(RouterObject *self, PyObject *args) {
    Py_buffer vr, vf, vp;
    int words;
    if (!PyArg_ParseTuple(args, "y*y*y*i", &vr, &vf, &vp, &words)) return NULL;
    Py_ssize_t n = vf.len / 8;
    PyObject *out = NULL;
    uint8_t *dest = NULL;
    if (words < 1 || vf.len % 8 || vp.len != vf.len || vr.len != n * 8 * words) {
        PyErr_SetString(PyExc_ValueError, "rows, fingerprints and parents do not match");
        goto done;
    }
    dest = malloc((size_t)(n ? n : 1));
    if (!dest) {
        PyErr_NoMemory();
        goto done;
    }
    const uint64_t *fps = vf.buf, *parents = vp.buf, *rows = vr.buf;
    Py_ssize_t per[256] = {0};
    int shift = 64 - self->bits;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t fp = fps[i];
        uint64_t *slot = &self->cache[(fp * GOLDEN) >> shift];
        if (*slot == fp && fp) {
            dest[i] = 255;
            continue;
        }
        *slot = fp;
        dest[i] = (uint8_t)(((fp >> 32) * (uint64_t)self->count) >> 32);
        per[dest[i]]++;
    }
    out = PyList_New(self->count);
    if (!out) goto done;
    /* One blob per owner: its rows, then their fingerprints, then their parents' (Batch). */
    uint64_t *wr[256], *wf[256], *wp[256];
    for (int o = 0; o < self->count; o++) {
        PyObject *blob = PyBytes_FromStringAndSize(NULL, per[o] * 8 * (words + 2));
        if (!blob) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, o, blob);
        wr[o] = (uint64_t *)PyBytes_AS_STRING(blob);
        wf[o] = wr[o] + per[o] * words;
        wp[o] = wf[o] + per[o];
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int o = dest[i];
        if (o == 255) continue;
        memcpy(wr[o], rows + i * words, (size_t)words * 8);
        wr[o] += words;
        *wf[o]++ = fps[i];
        *wp[o]++ = parents[i];
    }
done:
    free(dest);
    PyBuffer_Release(&vr);
    PyBuffer_Release(&vf);
    PyBuffer_Release(&vp);
    return out;
}

static PyMethodDef Router_methods[] = {
    {"route", (PyCFunction)Router_route, METH_VARARGS, "group candidates by owner"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RouterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "electorate.model_check._fpset.Router",
    .tp_basicsize = sizeof(RouterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Groups a shard's candidates by owning shard, repeats left out.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Router_init,
    .tp_dealloc = (destructor)Router_dealloc,
    .tp_methods = Router_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fpset",
    .m_doc = "A set of 64-bit fingerprints in flat tables, in C.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__fpset(void) {
    if (PyType_Ready(&FpSetType) < 0 || PyType_Ready(&RouterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&FpSetType);
    Py_INCREF(&RouterType);
    if (PyModule_AddObject(m, "FpSet", (PyObject *)&FpSetType) < 0 ||
        PyModule_AddObject(m, "Router", (PyObject *)&RouterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
