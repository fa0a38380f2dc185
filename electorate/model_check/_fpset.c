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
 * Several threads may add to one set at once (the packed search's workers share it, as TLC's
 * workers share their fingerprint set): a batch is inserted without the GIL, a slot is claimed
 * by compare-and-swap, and nothing is ever removed, so a probe that meets its fingerprint or an
 * empty slot has its answer. Growth is the one exclusive step: a batch first reserves room for
 * all its fingerprints in their segments under a shared lock; a segment that would pass three
 * quarters full is grown under the exclusive lock, when no batch is inserting.
 *
 * Also here: `Inserter`, the packed search's way into a shared set (expanded candidates in,
 * the new ones and their trace records out).
 */

#define PY_SSIZE_T_CLEAN
#define _GNU_SOURCE
#include <Python.h>
#include <pthread.h>
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
    uint32_t cap;
    uint32_t count;    /* fingerprints in it (added to at the end of each batch) */
    uint32_t reserved; /* room the batches inserting now may still take */
} Seg;

typedef struct {
    PyObject_HEAD Seg seg[NSEG];
    uint64_t count;
    int has_zero;
    int locked; /* the lock is initialised */
    pthread_rwlock_t lock;
} FpSetObject;

static inline uint32_t home(const Seg *s, uint64_t h) {
    uint32_t below = (uint32_t)(h >> (32 - SEGBITS));
    return (uint32_t)(((uint64_t)below * s->cap) >> 32);
}

/* 1: inserted, 0: already there. The segment has room; other threads may insert meanwhile. */
static inline int seg_insert(Seg *s, uint64_t fp, uint64_t h) {
    uint32_t i = home(s, h);
    for (;;) {
        uint64_t v = __atomic_load_n(&s->slots[i], __ATOMIC_RELAXED);
        if (v == fp) return 0;
        if (!v) {
            if (__atomic_compare_exchange_n(&s->slots[i], &v, fp, 0, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED))
                return 1;
            if (v == fp) return 0; /* another thread put the same fingerprint there */
        }
        if (++i == s->cap) i = 0;
    }
}

/* Grow a segment to hold `need` fingerprints at most three quarters full (by half at least).
 * Exclusive: no other thread is inserting. */
static int seg_grow(Seg *s, uint64_t need) {
    uint64_t cap = s->cap ? (uint64_t)s->cap + s->cap / 2 : MINCAP;
    while (need * 4 > cap * 3) cap += cap / 2;
    if (cap > 0xFFFFFFF0ULL) return -1;
    uint64_t *old = s->slots;
    uint32_t oldcap = s->cap;
    s->slots = calloc((size_t)cap, sizeof(uint64_t));
    if (!s->slots) {
        s->slots = old;
        return -1;
    }
    s->cap = (uint32_t)cap;
    for (uint32_t k = 0; k < oldcap; k++)
        if (old[k]) seg_insert(s, old[k], old[k] * GOLDEN);
    free(old);
    return 0;
}

static void release_room(FpSetObject *t, const uint32_t *need) {
    for (int k = 0; k < NSEG; k++)
        if (need[k]) __atomic_sub_fetch(&t->seg[k].reserved, need[k], __ATOMIC_RELAXED);
}

/* Take the shared lock with room for `need[k]` more fingerprints in each segment k, growing
 * segments under the exclusive lock first if need be. -1: out of memory (no lock held). */
static int reserve_room(FpSetObject *t, const uint32_t *need) {
    for (;;) {
        pthread_rwlock_rdlock(&t->lock);
        int fits = 1;
        for (int k = 0; k < NSEG; k++) {
            if (!need[k]) continue;
            Seg *s = &t->seg[k];
            uint64_t r = __atomic_add_fetch(&s->reserved, need[k], __ATOMIC_RELAXED);
            uint64_t c = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
            if ((c + r) * 4 > (uint64_t)s->cap * 3) fits = 0;
        }
        if (fits) return 0;
        release_room(t, need);
        pthread_rwlock_unlock(&t->lock);
        pthread_rwlock_wrlock(&t->lock);
        int failed = 0;
        for (int k = 0; k < NSEG && !failed; k++) {
            Seg *s = &t->seg[k];
            uint64_t want = (uint64_t)s->count + s->reserved + need[k];
            if (need[k] && want * 4 > (uint64_t)s->cap * 3 && seg_grow(s, want) < 0) failed = 1;
        }
        pthread_rwlock_unlock(&t->lock);
        if (failed) return -1;
    }
}

/* Insert fps[idx[j]] (fps[j] without idx) for j < m; mask[j] = 1 where new. Called without the
 * GIL. -1: out of memory (nothing inserted). */
static int insert_batch(FpSetObject *t, const uint64_t *fps, const int32_t *idx, Py_ssize_t m,
                        uint8_t *mask) {
    uint32_t need[NSEG] = {0}, added[NSEG] = {0};
    for (Py_ssize_t j = 0; j < m; j++) {
        uint64_t fp = fps[idx ? idx[j] : j];
        if (fp) need[(fp * GOLDEN) >> (64 - SEGBITS)]++;
    }
    if (reserve_room(t, need) < 0) return -1;
    uint64_t total = 0;
    for (Py_ssize_t j = 0; j < m; j++) {
        if (j + PREFETCH < m) {
            uint64_t h = fps[idx ? idx[j + PREFETCH] : j + PREFETCH] * GOLDEN;
            const Seg *s = &t->seg[h >> (64 - SEGBITS)];
            __builtin_prefetch(&s->slots[home(s, h)], 1);
        }
        uint64_t fp = fps[idx ? idx[j] : j];
        if (!fp) {
            int none = 0;
            mask[j] = (uint8_t)__atomic_compare_exchange_n(&t->has_zero, &none, 1, 0,
                                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED);
            total += mask[j];
            continue;
        }
        uint64_t h = fp * GOLDEN;
        int k = (int)(h >> (64 - SEGBITS));
        mask[j] = (uint8_t)seg_insert(&t->seg[k], fp, h);
        added[k] += mask[j];
        total += mask[j];
    }
    /* The count first, then the reservation: count + reserved never underestimates. */
    for (int k = 0; k < NSEG; k++)
        if (added[k]) __atomic_add_fetch(&t->seg[k].count, added[k], __ATOMIC_RELAXED);
    release_room(t, need);
    __atomic_add_fetch(&t->count, total, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&t->lock);
    return 0;
}

static int FpSet_init(FpSetObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kw, "", names)) return -1;
    if (!self->locked) {
        pthread_rwlockattr_t attr;
        pthread_rwlockattr_init(&attr);
        /* A waiting grower goes before new batches: otherwise two busy threads could keep
         * the shared lock taken for ever. */
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
        if (pthread_rwlock_init(&self->lock, &attr)) {
            PyErr_SetString(PyExc_OSError, "cannot make the fingerprint set's lock");
            return -1;
        }
        pthread_rwlockattr_destroy(&attr);
        self->locked = 1;
    }
    for (int k = 0; k < NSEG; k++) {
        free(self->seg[k].slots);
        self->seg[k].slots = NULL;
        self->seg[k].cap = self->seg[k].count = self->seg[k].reserved = 0;
        if (seg_grow(&self->seg[k], 0) < 0) {
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
    if (self->locked) pthread_rwlock_destroy(&self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int int64_buffer(PyObject *arg, Py_buffer *view, const char *what) {
    if (PyObject_GetBuffer(arg, view, PyBUF_SIMPLE) < 0) return -1;
    if (view->len % 8) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s are 8-byte integers", what);
        return -1;
    }
    return 0;
}

/* add(fps) -> bytes: one byte per fingerprint (an int64 buffer), 1 where it was not in the set
 * (the first of several equal ones in the batch counts as new, the others not). */
static PyObject *FpSet_add(FpSetObject *self, PyObject *arg) {
    Py_buffer view;
    if (int64_buffer(arg, &view, "fingerprints") < 0) return NULL;
    Py_ssize_t n = view.len / 8;
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (!out) {
        PyBuffer_Release(&view);
        return NULL;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS;
    failed = insert_batch(self, view.buf, NULL, n, (uint8_t *)PyBytes_AS_STRING(out));
    Py_END_ALLOW_THREADS;
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
    if (!fp) return PyBool_FromLong(__atomic_load_n(&self->has_zero, __ATOMIC_RELAXED));
    uint64_t h = fp * GOLDEN;
    int found = 0;
    pthread_rwlock_rdlock(&self->lock);
    const Seg *s = &self->seg[h >> (64 - SEGBITS)];
    for (uint32_t i = home(s, h); s->cap;) {
        uint64_t v = __atomic_load_n(&s->slots[i], __ATOMIC_RELAXED);
        if (v == fp) found = 1;
        if (!v || v == fp) break;
        if (++i == s->cap) i = 0;
    }
    pthread_rwlock_unlock(&self->lock);
    return PyBool_FromLong(found);
}

/* values() -> bytes: every fingerprint in the set, as int64 (none being added meanwhile). */
static PyObject *FpSet_values(FpSetObject *self, PyObject *unused) {
    (void)unused;
    pthread_rwlock_wrlock(&self->lock);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(8 * self->count));
    if (out) {
        uint64_t *dst = (uint64_t *)PyBytes_AS_STRING(out);
        for (int k = 0; k < NSEG; k++)
            for (uint32_t i = 0; i < self->seg[k].cap; i++)
                if (self->seg[k].slots[i]) *dst++ = self->seg[k].slots[i];
        if (self->has_zero) *dst++ = 0;
    }
    pthread_rwlock_unlock(&self->lock);
    return out;
}

static PyObject *FpSet_nbytes(FpSetObject *self, void *closure) {
    (void)closure;
    uint64_t total = 0;
    pthread_rwlock_rdlock(&self->lock);
    for (int k = 0; k < NSEG; k++) total += 8ULL * self->seg[k].cap;
    pthread_rwlock_unlock(&self->lock);
    return PyLong_FromUnsignedLongLong(total);
}

static Py_ssize_t FpSet_len(FpSetObject *self) {
    return (Py_ssize_t)__atomic_load_n(&self->count, __ATOMIC_RELAXED);
}

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


/* ---- Inserter: the search's candidates into a shared set ----------------------------------------
 *
 * The packed search expands a chunk of its level into candidates (rows, fingerprints, each
 * one's parent as an index into the chunk) and hands them here with the chunk's own
 * fingerprints. A candidate whose fingerprint the inserter saw before is left out first, by a
 * direct-mapped cache of the last fingerprints seen (a state is generated about a dozen times,
 * mostly from nearby states, and the cache is far cheaper than the table); the others go into
 * the set, and those new to it come out in generation order: their rows, and a trace record
 * (fingerprint, parent's fingerprint) each. Threads may share one inserter: a fingerprint in
 * the cache has been, or is being, inserted by the call that put it there, which keeps its
 * state if it is new, so any other call may leave it out. */

typedef struct {
    PyObject_HEAD int bits;
    uint64_t *cache;
} InserterObject;

static int Inserter_init(InserterObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"cache_bits", NULL};
    int bits;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "i", names, &bits)) return -1;
    if (bits < 1 || bits > 30) {
        PyErr_SetString(PyExc_ValueError, "a cache of 2**1 to 2**30 slots");
        return -1;
    }
    free(self->cache);
    self->cache = calloc((size_t)1 << bits, sizeof(uint64_t));
    if (!self->cache) {
        PyErr_NoMemory();
        return -1;
    }
    self->bits = bits;
    return 0;
}

static void Inserter_dealloc(InserterObject *self) {
    free(self->cache);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* insert(table, rows, fps, parents, own, words) -> (new rows, records): rows of `words` words,
 * int64 fingerprints, int32 parent indexes into `own` (the chunk's int64 fingerprints). */
static PyObject *Inserter_insert(InserterObject *self, PyObject *args) {
    PyObject *table;
    Py_buffer vr, vf, vp, vo;
    int words;
    if (!PyArg_ParseTuple(args, "O!y*y*y*y*i", &FpSetType, &table, &vr, &vf, &vp, &vo, &words))
        return NULL;
    FpSetObject *t = (FpSetObject *)table;
    Py_ssize_t n = vf.len / 8, no = vo.len / 8;
    PyObject *rows_out = NULL, *records_out = NULL, *result = NULL;
    int32_t *idx = NULL;
    uint8_t *mask = NULL;
    int failed = 0;
    if (words < 1 || vf.len % 8 || vp.len != n * 4 || vr.len != n * 8 * words || vo.len % 8) {
        PyErr_SetString(PyExc_ValueError, "rows, fingerprints and parents do not match");
        goto done;
    }
    rows_out = PyBytes_FromStringAndSize(NULL, n * 8 * words);
    records_out = PyBytes_FromStringAndSize(NULL, n * 16);
    idx = malloc((size_t)(n ? n : 1) * sizeof(int32_t));
    mask = malloc((size_t)(n ? n : 1));
    if (!rows_out || !records_out || !idx || !mask) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t kept = 0;
    const uint64_t *fps = vf.buf, *rows = vr.buf;
    const int32_t *parents = vp.buf;
    const int64_t *own = vo.buf;
    Py_BEGIN_ALLOW_THREADS;
    Py_ssize_t m = 0;
    int shift = 64 - self->bits;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t fp = fps[i];
        uint64_t *slot = &self->cache[(fp * GOLDEN) >> shift];
        if (fp && __atomic_load_n(slot, __ATOMIC_RELAXED) == fp) continue;
        __atomic_store_n(slot, fp, __ATOMIC_RELAXED);
        if (parents[i] < 0 || parents[i] >= no) {
            failed = 2;
            break;
        }
        idx[m++] = (int32_t)i;
    }
    if (!failed) failed = insert_batch(t, fps, idx, m, mask) < 0;
    if (!failed) {
        uint64_t *wr = (uint64_t *)PyBytes_AS_STRING(rows_out);
        int64_t *wc = (int64_t *)PyBytes_AS_STRING(records_out);
        for (Py_ssize_t j = 0; j < m; j++) {
            if (!mask[j]) continue;
            Py_ssize_t i = idx[j];
            memcpy(wr + kept * words, rows + i * words, (size_t)words * 8);
            wc[2 * kept] = (int64_t)fps[i];
            wc[2 * kept + 1] = own[parents[i]];
            kept++;
        }
    }
    Py_END_ALLOW_THREADS;
    if (failed == 2) {
        PyErr_SetString(PyExc_ValueError, "a parent index outside the chunk");
    } else if (failed) {
        PyErr_NoMemory();
    } else if (_PyBytes_Resize(&rows_out, kept * 8 * words) == 0 &&
               _PyBytes_Resize(&records_out, kept * 16) == 0) {
        result = PyTuple_Pack(2, rows_out, records_out);
    }
done:
    Py_XDECREF(rows_out);
    Py_XDECREF(records_out);
    free(idx);
    free(mask);
    PyBuffer_Release(&vr);
    PyBuffer_Release(&vf);
    PyBuffer_Release(&vp);
    PyBuffer_Release(&vo);
    return result;
}

static PyMethodDef Inserter_methods[] = {
    {"insert", (PyCFunction)Inserter_insert, METH_VARARGS, "candidates in, the new ones out"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject InserterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "electorate.model_check._fpset.Inserter",
    .tp_basicsize = sizeof(InserterObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Expanded candidates into a shared fingerprint set, repeats left out.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Inserter_init,
    .tp_dealloc = (destructor)Inserter_dealloc,
    .tp_methods = Inserter_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fpset",
    .m_doc = "A set of 64-bit fingerprints in flat tables, in C.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__fpset(void) {
    if (PyType_Ready(&FpSetType) < 0 || PyType_Ready(&InserterType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&FpSetType);
    Py_INCREF(&InserterType);
    if (PyModule_AddObject(m, "FpSet", (PyObject *)&FpSetType) < 0 ||
        PyModule_AddObject(m, "Inserter", (PyObject *)&InserterType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
