/* The election profile of the Raft spec on packed states, in C: the successors of a state, the
 * state constraint, the invariants and server symmetry, for the model checker's inner loop.
 *
 * The readable spec (electorate/spec: actions.py, next.py, properties.py, symmetry.py) is the
 * reference and this is a second rendering of it for speed: for every state it yields the same
 * successors in the same order as next.Next (stuttering steps included), as TLC counts them.
 * tests/spec/test_fast_election.py holds the two to that on every state of small models and
 * on sampled states of bigger ones, with every bug variant the profile has.
 *
 * What it covers (electorate/spec/fast/election.py decides): the election profile without
 * features: Restart, Timeout, RequestVote, BecomeLeader, Receive (UpdateTerm and the vote
 * handlers), DuplicateMessage, DropMessage; logs stay empty, so nextIndex, matchIndex and
 * commitIndex keep their initial values and are not stored.
 *
 * A state is packed into `words` 64-bit words: per server its term, role, vote (0: Nil, k + 1:
 * server k) and the two vote sets (bitmasks), then the message bag as `max_msgs + 1` slots,
 * each a message code + 1 (0: empty), one slot per copy, in increasing code order. A message
 * code orders as the readable Message tuple does (type, term, source, destination, granted),
 * so the bag is walked in the readable bag's order. One more term value and one more slot than
 * the constraint allows are kept, so that successors outside the constraint can be packed too.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXN 7     /* servers: Params allows at most 7 */
#define MAXM 16    /* message slots: max_msgs + 1 */
#define MAXW 8     /* words of a packed state */
#define MAXPROPS 8 /* invariants, and "sometimes" properties, a model checks */

enum { FOLLOWER = 0, CANDIDATE = 1, LEADER = 2 };
enum { RV_REQUEST = 0, RV_RESPONSE = 1 };

/* Bug variants (spec/bugs.py) this profile can show. */
enum {
    BUG_QUORUM_HALF = 1 << 0,
    BUG_VOTE_TWICE = 1 << 1,
    BUG_FORGET_VOTE = 1 << 2,
    BUG_STALE_VOTES = 1 << 3,
    BUG_LEADER_KEEPS_ROLE = 1 << 4,
    BUG_NO_TERM_INCREMENT = 1 << 5,
};

/* State predicates: spec/properties.py's ElectionSafety ... LeaderElected. */
enum {
    P_ELECTION_SAFETY,
    P_LEADER_HAS_QUORUM,
    P_VOTES_GRANTED_ARE_VOTES,
    P_VOTE_RESPONSES_ARE_VOTES,
    P_LEADER_ELECTED,
    NPRED
};

typedef struct {
    uint8_t term[MAXN], role[MAXN], voted[MAXN], resp[MAXN], granted[MAXN];
    uint8_t nm;           /* distinct messages in the bag */
    uint8_t cnt[MAXM];    /* copies of each */
    uint32_t code[MAXM];  /* increasing */
} St;

typedef struct {
    uint64_t w[MAXW];
} Row;

typedef struct {
    int n, max_term, max_msgs, bugs, symmetry;
    int tb, sb, vb, cb, slots, words; /* bit widths: term, server id, vote, slot */
    int ninv, nsome;
    uint8_t inv[MAXPROPS], neg[MAXPROPS], some[MAXPROPS];
} Cfg;

static int bitlen(unsigned v) {
    int b = 0;
    while (v) {
        b++;
        v >>= 1;
    }
    return b;
}

/* ---- messages and the bag ------------------------------------------------------------------ */

static inline uint32_t mcode(const Cfg *c, int type, int term, int src, int dst, int granted) {
    uint32_t x = (uint32_t)type;
    x = x << c->tb | (uint32_t)term;
    x = x << c->sb | (uint32_t)src;
    x = x << c->sb | (uint32_t)dst;
    return x << 1 | (uint32_t)granted;
}

typedef struct {
    int type, term, src, dst, granted;
} Msg;

static inline Msg mdecode(const Cfg *c, uint32_t x) {
    Msg m;
    uint32_t smask = (1u << c->sb) - 1;
    m.granted = (int)(x & 1);
    x >>= 1;
    m.dst = (int)(x & smask);
    x >>= c->sb;
    m.src = (int)(x & smask);
    x >>= c->sb;
    m.term = (int)(x & ((1u << c->tb) - 1));
    m.type = (int)(x >> c->tb);
    return m;
}

/* TLA+ WithMessage: one more copy. */
static int bag_add(St *s, uint32_t code) {
    int k = 0;
    while (k < s->nm && s->code[k] < code) k++;
    if (k < s->nm && s->code[k] == code) {
        s->cnt[k]++;
        return 0;
    }
    if (s->nm >= MAXM) return -1;
    memmove(&s->code[k + 1], &s->code[k], (size_t)(s->nm - k) * sizeof(uint32_t));
    memmove(&s->cnt[k + 1], &s->cnt[k], (size_t)(s->nm - k));
    s->code[k] = code;
    s->cnt[k] = 1;
    s->nm++;
    return 0;
}

/* TLA+ WithoutMessage of the k-th message: one copy fewer; it leaves when none is left. */
static void bag_drop_at(St *s, int k) {
    if (s->cnt[k] > 1) {
        s->cnt[k]--;
        return;
    }
    memmove(&s->code[k], &s->code[k + 1], (size_t)(s->nm - k - 1) * sizeof(uint32_t));
    memmove(&s->cnt[k], &s->cnt[k + 1], (size_t)(s->nm - k - 1));
    s->nm--;
}

static void bag_remove(St *s, uint32_t code) {
    for (int k = 0; k < s->nm; k++)
        if (s->code[k] == code) {
            bag_drop_at(s, k);
            return;
        }
}

static int copies(const St *s) {
    int total = 0;
    for (int k = 0; k < s->nm; k++) total += s->cnt[k];
    return total;
}

/* ---- packing --------------------------------------------------------------------------------- */

static inline void put(uint64_t *w, int *pos, uint64_t v, int bits) {
    int p = *pos, k = p >> 6, o = p & 63;
    w[k] |= v << o;
    if (o + bits > 64) w[k + 1] |= v >> (64 - o);
    *pos = p + bits;
}

static inline uint64_t get(const uint64_t *w, int *pos, int bits) {
    int p = *pos, k = p >> 6, o = p & 63;
    uint64_t v = w[k] >> o;
    if (o + bits > 64) v |= w[k + 1] << (64 - o);
    *pos = p + bits;
    return v & ((bits == 64) ? ~0ULL : ((1ULL << bits) - 1));
}

static void pack(const Cfg *c, const St *s, Row *r) {
    int pos = 0, n = c->n;
    memset(r->w, 0, sizeof(uint64_t) * (size_t)c->words);
    for (int k = 0; k < n; k++) {
        put(r->w, &pos, s->term[k], c->tb);
        put(r->w, &pos, s->role[k], 2);
        put(r->w, &pos, s->voted[k], c->vb);
        put(r->w, &pos, s->resp[k], n);
        put(r->w, &pos, s->granted[k], n);
    }
    for (int k = 0; k < s->nm; k++)
        for (int x = 0; x < s->cnt[k]; x++) put(r->w, &pos, (uint64_t)s->code[k] + 1, c->cb);
}

static void unpack(const Cfg *c, const uint64_t *w, St *s) {
    int pos = 0, n = c->n;
    memset(s, 0, sizeof(*s));
    for (int k = 0; k < n; k++) {
        s->term[k] = (uint8_t)get(w, &pos, c->tb);
        s->role[k] = (uint8_t)get(w, &pos, 2);
        s->voted[k] = (uint8_t)get(w, &pos, c->vb);
        s->resp[k] = (uint8_t)get(w, &pos, n);
        s->granted[k] = (uint8_t)get(w, &pos, n);
    }
    for (int slot = 0; slot < c->slots; slot++) {
        uint64_t v = get(w, &pos, c->cb);
        if (!v) break;
        uint32_t code = (uint32_t)(v - 1);
        if (s->nm && s->code[s->nm - 1] == code)
            s->cnt[s->nm - 1]++;
        else {
            s->code[s->nm] = code;
            s->cnt[s->nm] = 1;
            s->nm++;
        }
    }
}

static inline int row_less(const Cfg *c, const Row *a, const Row *b) {
    for (int k = c->words - 1; k >= 0; k--)
        if (a->w[k] != b->w[k]) return a->w[k] < b->w[k];
    return 0;
}

/* Fingerprints: murmur3's finalizer is a bijection of 64-bit words, so a one-word state has a
 * fingerprint no other state shares. */
static inline uint64_t fmix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t row_fp(const Cfg *c, const Row *r) {
    uint64_t h = fmix(r->w[0]);
    for (int k = 1; k < c->words; k++) h = fmix(h ^ fmix(r->w[k] + 0x9e3779b97f4a7c15ULL * (uint64_t)k));
    return h;
}

/* ---- symmetry ---------------------------------------------------------------------------------- */

static inline uint8_t map_mask(uint8_t mask, const uint8_t *pi, int n) {
    uint8_t out = 0;
    for (int j = 0; j < n; j++)
        if (mask >> j & 1) out |= (uint8_t)(1u << pi[j]);
    return out;
}

/* The state with server k renamed pi[k] everywhere (spec/symmetry.py's permute). */
static void permute(const Cfg *c, const St *s, const uint8_t *pi, St *t) {
    int n = c->n;
    for (int k = 0; k < n; k++) {
        int p = pi[k];
        t->term[p] = s->term[k];
        t->role[p] = s->role[k];
        t->voted[p] = s->voted[k] ? (uint8_t)(pi[s->voted[k] - 1] + 1) : 0;
        t->resp[p] = map_mask(s->resp[k], pi, n);
        t->granted[p] = map_mask(s->granted[k], pi, n);
    }
    t->nm = s->nm;
    for (int k = 0; k < s->nm; k++) {
        Msg m = mdecode(c, s->code[k]);
        uint32_t code = mcode(c, m.type, m.term, pi[m.src], pi[m.dst], m.granted);
        uint8_t cnt = s->cnt[k];
        int x = k;
        while (x > 0 && t->code[x - 1] > code) {
            t->code[x] = t->code[x - 1];
            t->cnt[x] = t->cnt[x - 1];
            x--;
        }
        t->code[x] = code;
        t->cnt[x] = cnt;
    }
}

/* std::next_permutation on a small array: false (and the array sorted) after the last one. */
static int next_perm(uint8_t *a, int len) {
    int i = len - 2;
    while (i >= 0 && a[i] >= a[i + 1]) i--;
    if (i < 0) {
        for (int l = 0, r = len - 1; l < r; l++, r--) {
            uint8_t x = a[l];
            a[l] = a[r];
            a[r] = x;
        }
        return 0;
    }
    int j = len - 1;
    while (a[j] <= a[i]) j--;
    uint8_t x = a[i];
    a[i] = a[j];
    a[j] = x;
    for (int l = i + 1, r = len - 1; l < r; l++, r--) {
        x = a[l];
        a[l] = a[r];
        a[r] = x;
    }
    return 1;
}

/* The orbit's representative: the smallest packed image among the renamings that sort the
 * servers by a signature any renaming carries along (term, role, whom it voted for: nobody,
 * itself or another, and the sizes of its vote sets). Every member of the orbit has the same
 * set of such images, so the minimum is one per orbit (as spec/symmetry.py's canonical). */
static void canonical(const Cfg *c, const St *s, Row *best) {
    int n = c->n;
    uint32_t sig[MAXN];
    uint8_t order[MAXN], pi[MAXN];
    for (int k = 0; k < n; k++) {
        uint32_t kind = s->voted[k] == 0 ? 0 : (s->voted[k] == k + 1 ? 1 : 2);
        sig[k] = (uint32_t)s->term[k] << 16 | (uint32_t)s->role[k] << 12 | kind << 8 |
                 (uint32_t)__builtin_popcount(s->resp[k]) << 4 |
                 (uint32_t)__builtin_popcount(s->granted[k]);
        int x = k;
        while (x > 0 && sig[order[x - 1]] > sig[k]) {
            order[x] = order[x - 1];
            x--;
        }
        order[x] = (uint8_t)k;
    }
    int gstart[MAXN], glen[MAXN], ng = 0;
    for (int k = 0; k < n; k++) {
        if (k && sig[order[k]] == sig[order[k - 1]])
            glen[ng - 1]++;
        else {
            gstart[ng] = k;
            glen[ng] = 1;
            ng++;
        }
    }
    /* Each tie group starts in increasing server order (the insertion sort is stable), the first
     * of its permutations. */
    St t;
    Row r;
    int first = 1;
    for (;;) {
        for (int slot = 0; slot < n; slot++) pi[order[slot]] = (uint8_t)slot;
        permute(c, s, pi, &t);
        pack(c, &t, first ? best : &r);
        if (!first && row_less(c, &r, best)) *best = r;
        first = 0;
        int g = ng - 1;
        while (g >= 0 && !next_perm(order + gstart[g], glen[g])) g--;
        if (g < 0) break;
    }
}

static inline void key_row(const Cfg *c, const St *s, Row *r) {
    if (c->symmetry)
        canonical(c, s, r);
    else
        pack(c, s, r);
}

/* ---- the constraint and the properties ------------------------------------------------------- */

static inline int is_quorum(const Cfg *c, uint8_t mask) {
    int votes = __builtin_popcount(mask) * 2;
    return (c->bugs & BUG_QUORUM_HALF) ? votes >= c->n : votes > c->n;
}

static int in_constraint(const Cfg *c, const St *s) {
    for (int k = 0; k < c->n; k++)
        if (s->term[k] > c->max_term) return 0;
    return copies(s) <= c->max_msgs;
}

static int pred(const Cfg *c, const St *s, int which) {
    int n = c->n;
    switch (which) {
    case P_ELECTION_SAFETY:
        for (int i = 0; i < n; i++)
            if (s->role[i] == LEADER)
                for (int j = i + 1; j < n; j++)
                    if (s->role[j] == LEADER && s->term[j] == s->term[i]) return 0;
        return 1;
    case P_LEADER_HAS_QUORUM:
        for (int i = 0; i < n; i++)
            if (s->role[i] == LEADER && !is_quorum(c, s->granted[i])) return 0;
        return 1;
    case P_VOTES_GRANTED_ARE_VOTES:
        for (int i = 0; i < n; i++) {
            if (s->role[i] == FOLLOWER) continue;
            for (int j = 0; j < n; j++)
                if (s->granted[i] >> j & 1)
                    if (!(s->term[j] > s->term[i] || s->voted[j] == i + 1)) return 0;
        }
        return 1;
    case P_VOTE_RESPONSES_ARE_VOTES:
        for (int k = 0; k < s->nm; k++) {
            Msg m = mdecode(c, s->code[k]);
            if (m.type == RV_RESPONSE && m.granted)
                if (!(s->term[m.src] > m.term || s->voted[m.src] == m.dst + 1)) return 0;
        }
        return 1;
    case P_LEADER_ELECTED:
        for (int i = 0; i < n; i++)
            if (s->role[i] == LEADER) return 1;
        return 0;
    }
    return 1;
}

/* ---- Next ------------------------------------------------------------------------------------ */

typedef struct Ctx Ctx;
typedef int (*EmitFn)(Ctx *x, const St *t, int stutter);

struct Ctx {
    const Cfg *c;
    EmitFn emit;
    const St *from;
    int parent;
    /* search mode: the in-constraint successors, their fingerprints and parents */
    uint64_t *rows;
    int64_t *fps;
    int32_t *parents;
    Py_ssize_t m, cap;
    uint64_t generated;
    uint32_t reached;
    int found, found_inv;
    Row found_row;
    int oom;
    /* listing mode: every successor's packed row */
    Row *all;
    int nall;
};

/* Restart(i) would change nothing (actions._is_reset with empty logs). */
static inline int is_reset(const Cfg *c, const St *s, int i) {
    return s->role[i] == FOLLOWER && !s->resp[i] && !s->granted[i] &&
           (!(c->bugs & BUG_FORGET_VOTE) || s->voted[i] == 0);
}

/* Receive(m) for the k-th message of s (actions.Receive); 0 when no handler is enabled. */
static int receive(const Cfg *c, const St *s, int k, St *t) {
    uint32_t code = s->code[k];
    Msg m = mdecode(c, code);
    int i = m.dst, j = m.src;
    *t = *s;
    if (m.term > s->term[i]) { /* UpdateTerm: the message stays */
        t->term[i] = (uint8_t)m.term;
        if (!((c->bugs & BUG_LEADER_KEEPS_ROLE) && s->role[i] == LEADER)) t->role[i] = FOLLOWER;
        t->voted[i] = 0;
        return 1;
    }
    if (m.type == RV_REQUEST) { /* HandleRequestVoteRequest (LogOk holds: logs are empty) */
        int free = s->voted[i] == 0 || s->voted[i] == j + 1 || (c->bugs & BUG_VOTE_TWICE);
        int grant = m.term == s->term[i] && free;
        if (grant) t->voted[i] = (uint8_t)(j + 1);
        if (bag_add(t, mcode(c, RV_RESPONSE, s->term[i], i, j, grant)) < 0) return -1;
        bag_remove(t, code);
        return 1;
    }
    if (m.term < s->term[i] && !(c->bugs & BUG_STALE_VOTES)) { /* DropStaleResponse */
        bag_drop_at(t, k);
        return 1;
    }
    if (!(c->bugs & BUG_STALE_VOTES) && m.term != s->term[i]) return 0;
    t->resp[i] |= (uint8_t)(1u << j); /* HandleRequestVoteResponse */
    if (m.granted) t->granted[i] |= (uint8_t)(1u << j);
    bag_drop_at(t, k);
    return 1;
}

#define EMIT(t, stutter)                         \
    do {                                         \
        if (x->emit(x, (t), (stutter))) return 1; \
    } while (0)

/* Every successor of s in next._instances' order (the table of a model without features). */
static int gen(Ctx *x, const St *s) {
    const Cfg *c = x->c;
    int n = c->n;
    St t;
    x->from = s;
    for (int i = 0; i < n; i++) { /* Restart(i) */
        if (is_reset(c, s, i)) {
            EMIT(s, 1);
            continue;
        }
        t = *s;
        t.role[i] = FOLLOWER;
        if (c->bugs & BUG_FORGET_VOTE) t.voted[i] = 0;
        t.resp[i] = 0;
        t.granted[i] = 0;
        EMIT(&t, 0);
    }
    for (int i = 0; i < n; i++) { /* Timeout(i) */
        if (s->role[i] != FOLLOWER && s->role[i] != CANDIDATE) continue;
        t = *s;
        t.role[i] = CANDIDATE;
        if (!(c->bugs & BUG_NO_TERM_INCREMENT)) t.term[i]++;
        t.voted[i] = 0;
        t.resp[i] = 0;
        t.granted[i] = 0;
        EMIT(&t, 0);
    }
    for (int i = 0; i < n; i++) { /* RequestVote(i, j) */
        if (s->role[i] != CANDIDATE) continue;
        for (int j = 0; j < n; j++) {
            if (s->resp[i] >> j & 1) continue;
            t = *s;
            if (bag_add(&t, mcode(c, RV_REQUEST, s->term[i], i, j, 0)) < 0) return x->oom = 1;
            EMIT(&t, 0);
        }
    }
    for (int i = 0; i < n; i++) { /* BecomeLeader(i) */
        if (s->role[i] != CANDIDATE || !is_quorum(c, s->granted[i])) continue;
        t = *s;
        t.role[i] = LEADER;
        EMIT(&t, 0);
    }
    for (int k = 0; k < s->nm; k++) { /* Receive(m) */
        int on = receive(c, s, k, &t);
        if (on < 0) return x->oom = 1;
        if (on) EMIT(&t, 0);
    }
    for (int k = 0; k < s->nm; k++) { /* DuplicateMessage(m) */
        t = *s;
        t.cnt[k]++;
        EMIT(&t, 0);
    }
    for (int k = 0; k < s->nm; k++) { /* DropMessage(m) */
        t = *s;
        bag_drop_at(&t, k);
        EMIT(&t, 0);
    }
    return 0;
}

/* The search: count, check every invariant, keep what lies inside the constraint. */
static int emit_search(Ctx *x, const St *t, int stutter) {
    const Cfg *c = x->c;
    x->generated++;
    if (stutter) return 0; /* the state itself: seen and checked already */
    for (int k = 0; k < c->ninv; k++)
        if (pred(c, t, c->inv[k]) == c->neg[k]) {
            x->found = 1;
            x->found_inv = k;
            pack(c, t, &x->found_row);
            return 1;
        }
    if (!in_constraint(c, t)) return 0;
    for (int k = 0; k < c->nsome; k++)
        if (!(x->reached >> k & 1) && pred(c, t, c->some[k])) x->reached |= 1u << k;
    if (x->m == x->cap) {
        Py_ssize_t cap = x->cap ? 2 * x->cap : 4096;
        uint64_t *rows = realloc(x->rows, (size_t)cap * (size_t)c->words * sizeof(uint64_t));
        if (rows) x->rows = rows;
        int64_t *fps = realloc(x->fps, (size_t)cap * sizeof(int64_t));
        if (fps) x->fps = fps;
        int32_t *parents = realloc(x->parents, (size_t)cap * sizeof(int32_t));
        if (parents) x->parents = parents;
        if (!rows || !fps || !parents) return x->oom = 1;
        x->cap = cap;
    }
    Row r;
    pack(c, t, &r);
    memcpy(x->rows + x->m * c->words, r.w, sizeof(uint64_t) * (size_t)c->words);
    if (c->symmetry) canonical(c, t, &r);
    x->fps[x->m] = (int64_t)row_fp(c, &r);
    x->parents[x->m] = x->parent;
    x->m++;
    return 0;
}

/* The listing for tests: every successor, the stuttering ones as the state itself. */
static int emit_list(Ctx *x, const St *t, int stutter) {
    (void)stutter;
    if (x->nall == x->cap) {
        Py_ssize_t cap = x->cap ? 2 * x->cap : 64;
        Row *all = realloc(x->all, (size_t)cap * sizeof(Row));
        if (!all) return x->oom = 1;
        x->all = all;
        x->cap = cap;
    }
    pack(x->c, t, &x->all[x->nall++]);
    return 0;
}

/* ---- the Python type ------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD Cfg cfg;
} SpaceObject;

static int row_arg(const Cfg *c, PyObject *obj, Row *r) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) return -1;
    if (view.len != (Py_ssize_t)(8 * c->words)) {
        PyErr_Format(PyExc_ValueError, "a packed state is %d bytes, got %zd", 8 * c->words,
                     view.len);
        PyBuffer_Release(&view);
        return -1;
    }
    memset(r, 0, sizeof(*r));
    memcpy(r->w, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return 0;
}

static PyObject *row_bytes(const Cfg *c, const Row *r) {
    return PyBytes_FromStringAndSize((const char *)r->w, (Py_ssize_t)(8 * c->words));
}

static int props_arg(PyObject *obj, uint8_t *out, int *count, const char *what) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0) return -1;
    int ok = view.len <= MAXPROPS;
    if (ok) {
        for (Py_ssize_t k = 0; k < view.len; k++) {
            out[k] = ((uint8_t *)view.buf)[k];
            if (out[k] >= NPRED && strcmp(what, "negated") != 0) ok = 0;
        }
        *count = (int)view.len;
    }
    PyBuffer_Release(&view);
    if (!ok) PyErr_Format(PyExc_ValueError, "bad %s list", what);
    return ok ? 0 : -1;
}

static int Space_init(SpaceObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"servers", "max_term", "max_msgs", "bugs", "invariants", "negated",
                            "sometimes", "symmetry", NULL};
    Cfg *c = &self->cfg;
    PyObject *inv, *neg, *some;
    int symmetry;
    memset(c, 0, sizeof(*c));
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iiiiOOOp", names, &c->n, &c->max_term,
                                     &c->max_msgs, &c->bugs, &inv, &neg, &some, &symmetry))
        return -1;
    c->symmetry = symmetry;
    int nneg = 0;
    if (props_arg(inv, c->inv, &c->ninv, "invariants") < 0 ||
        props_arg(neg, c->neg, &nneg, "negated") < 0 ||
        props_arg(some, c->some, &c->nsome, "sometimes") < 0)
        return -1;
    if (nneg != c->ninv) {
        PyErr_SetString(PyExc_ValueError, "one negated flag per invariant");
        return -1;
    }
    if (c->n < 1 || c->n > MAXN || c->max_term < 1 || c->max_term > 100 || c->max_msgs < 0 ||
        c->max_msgs + 1 > MAXM) {
        PyErr_Format(PyExc_ValueError,
                     "the fast path holds 1 to %d servers, max_term 1 to 100 and max_msgs 0 to "
                     "%d",
                     MAXN, MAXM - 1);
        return -1;
    }
    c->tb = bitlen((unsigned)c->max_term + 1);
    c->sb = c->n > 1 ? bitlen((unsigned)c->n - 1) : 1;
    c->vb = bitlen((unsigned)c->n);
    c->cb = 1 + c->tb + 2 * c->sb + 1 + 1; /* code bits, + 1 for the empty slot */
    c->slots = c->max_msgs + 1;
    int bits = c->n * (c->tb + 2 + c->vb + 2 * c->n) + c->slots * c->cb;
    c->words = (bits + 63) / 64;
    if (c->words > MAXW) {
        PyErr_Format(PyExc_ValueError, "a packed state would take %d bits, more than %d", bits,
                     64 * MAXW);
        return -1;
    }
    return 0;
}

static PyObject *Space_words(SpaceObject *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->cfg.words);
}

static int int_in(PyObject *seq, Py_ssize_t k, long lo, long hi, long *out) {
    PyObject *item = PySequence_GetItem(seq, k);
    if (!item) return -1;
    long v = PyLong_AsLong(item);
    Py_DECREF(item);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "value %ld out of the packed range %ld..%ld", v, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* pack(terms, roles, voted, resp, granted, messages): messages are (type, term, source,
 * destination, granted, copies) tuples; voted holds -1 for Nil. */
static PyObject *Space_pack(SpaceObject *self, PyObject *args) {
    const Cfg *c = &self->cfg;
    PyObject *f[5], *msgs;
    if (!PyArg_ParseTuple(args, "OOOOOO", &f[0], &f[1], &f[2], &f[3], &f[4], &msgs)) return NULL;
    St s;
    memset(&s, 0, sizeof(s));
    long lo[5] = {0, 0, -1, 0, 0};
    long hi[5] = {(1L << c->tb) - 1, LEADER, c->n - 1, (1L << c->n) - 1, (1L << c->n) - 1};
    for (int field = 0; field < 5; field++) {
        Py_ssize_t len = PySequence_Length(f[field]);
        if (len < 0) return NULL;
        if (len != c->n) {
            PyErr_Format(PyExc_ValueError, "a per-server field holds %d values, got %zd", c->n,
                         len);
            return NULL;
        }
        for (int k = 0; k < c->n; k++) {
            long v;
            if (int_in(f[field], k, lo[field], hi[field], &v) < 0) return NULL;
            uint8_t *dst[5] = {s.term, s.role, s.voted, s.resp, s.granted};
            dst[field][k] = (uint8_t)(field == 2 ? v + 1 : v);
        }
    }
    Py_ssize_t nm = PySequence_Length(msgs);
    if (nm < 0) return NULL;
    int total = 0;
    for (Py_ssize_t k = 0; k < nm; k++) {
        PyObject *m = PySequence_GetItem(msgs, k);
        if (!m) return NULL;
        long v[6];
        long mlo[6] = {0, 0, 0, 0, 0, 1};
        long mhi[6] = {RV_RESPONSE, (1L << c->tb) - 1, c->n - 1, c->n - 1, 1, c->slots};
        int bad = PySequence_Length(m) != 6;
        for (int x = 0; !bad && x < 6; x++) bad = int_in(m, x, mlo[x], mhi[x], &v[x]) < 0;
        Py_DECREF(m);
        if (bad) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "a message is (type, term, src, dst, granted, copies)");
            return NULL;
        }
        uint32_t code = mcode(c, (int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)v[4]);
        total += (int)v[5];
        if (total > c->slots) {
            PyErr_Format(PyExc_ValueError, "more than %d message copies", c->slots);
            return NULL;
        }
        for (long x = 0; x < v[5]; x++)
            if (bag_add(&s, code) < 0) {
                PyErr_SetString(PyExc_ValueError, "too many messages");
                return NULL;
            }
    }
    Row r;
    pack(c, &s, &r);
    return row_bytes(c, &r);
}

static PyObject *tuple_of(const uint8_t *v, int n, int minus_one) {
    PyObject *t = PyTuple_New(n);
    if (!t) return NULL;
    for (int k = 0; k < n; k++) {
        PyObject *x = PyLong_FromLong(minus_one ? (long)v[k] - 1 : (long)v[k]);
        if (!x) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, k, x);
    }
    return t;
}

static PyObject *Space_unpack(SpaceObject *self, PyObject *arg) {
    const Cfg *c = &self->cfg;
    Row r;
    St s;
    if (row_arg(c, arg, &r) < 0) return NULL;
    unpack(c, r.w, &s);
    PyObject *msgs = PyTuple_New(s.nm);
    if (!msgs) return NULL;
    for (int k = 0; k < s.nm; k++) {
        Msg m = mdecode(c, s.code[k]);
        PyObject *t = Py_BuildValue("(iiiiii)", m.type, m.term, m.src, m.dst, m.granted,
                                    (int)s.cnt[k]);
        if (!t) {
            Py_DECREF(msgs);
            return NULL;
        }
        PyTuple_SET_ITEM(msgs, k, t);
    }
    return Py_BuildValue("(NNNNNN)", tuple_of(s.term, c->n, 0), tuple_of(s.role, c->n, 0),
                         tuple_of(s.voted, c->n, 1), tuple_of(s.resp, c->n, 0),
                         tuple_of(s.granted, c->n, 0), msgs);
}

/* key(row): the row's canonical form with symmetry, else the row itself. */
static PyObject *Space_key(SpaceObject *self, PyObject *arg) {
    const Cfg *c = &self->cfg;
    Row r, k;
    St s;
    if (row_arg(c, arg, &r) < 0) return NULL;
    unpack(c, r.w, &s);
    key_row(c, &s, &k);
    return row_bytes(c, &k);
}

static PyObject *Space_fingerprint(SpaceObject *self, PyObject *arg) {
    const Cfg *c = &self->cfg;
    Row r, k;
    St s;
    if (row_arg(c, arg, &r) < 0) return NULL;
    unpack(c, r.w, &s);
    key_row(c, &s, &k);
    return PyLong_FromLongLong((long long)row_fp(c, &k));
}

/* check(row) -> (each invariant holds, each sometimes property holds, inside the constraint) */
static PyObject *Space_check(SpaceObject *self, PyObject *arg) {
    const Cfg *c = &self->cfg;
    Row r;
    St s;
    if (row_arg(c, arg, &r) < 0) return NULL;
    unpack(c, r.w, &s);
    PyObject *inv = PyTuple_New(c->ninv), *some = PyTuple_New(c->nsome);
    if (!inv || !some) {
        Py_XDECREF(inv);
        Py_XDECREF(some);
        return NULL;
    }
    for (int k = 0; k < c->ninv; k++)
        PyTuple_SET_ITEM(inv, k, PyBool_FromLong(pred(c, &s, c->inv[k]) != c->neg[k]));
    for (int k = 0; k < c->nsome; k++)
        PyTuple_SET_ITEM(some, k, PyBool_FromLong(pred(c, &s, c->some[k])));
    return Py_BuildValue("(NNN)", inv, some, PyBool_FromLong(in_constraint(c, &s)));
}

/* successors(row) -> every successor's packed row, in Next's order (stutters: the row). */
static PyObject *Space_successors(SpaceObject *self, PyObject *arg) {
    const Cfg *c = &self->cfg;
    Row r;
    St s;
    if (row_arg(c, arg, &r) < 0) return NULL;
    unpack(c, r.w, &s);
    if (!in_constraint(c, &s)) {
        PyErr_SetString(PyExc_ValueError, "only states inside the constraint are expanded");
        return NULL;
    }
    Ctx x;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.emit = emit_list;
    gen(&x, &s);
    PyObject *out = NULL;
    if (x.oom)
        PyErr_NoMemory();
    else if ((out = PyList_New(x.nall)) != NULL)
        for (int k = 0; k < x.nall; k++) {
            PyObject *b = row_bytes(c, &x.all[k]);
            if (!b) {
                Py_CLEAR(out);
                break;
            }
            PyList_SET_ITEM(out, k, b);
        }
    free(x.all);
    return out;
}

/* Py_BuildValue's y# makes None of a NULL buffer; an empty one must stay bytes. */
static const char *nonnull(const void *p) { return p ? (const char *)p : ""; }

/* expand(rows) -> (successor rows, their fingerprints, their parents' indexes, the rows' own
 * fingerprints, states generated, violation, reached): rows are the packed states of one chunk
 * of a BFS level; the successors are those inside the constraint that are not stuttering
 * steps, in generation order; fingerprints are int64 (of the canonical form with symmetry);
 * violation is None or (parent index, the violating successor's row, invariant index), the
 * first in generation order, where expansion stops; reached is a bitmask of the "sometimes"
 * properties some kept successor satisfies. */
static PyObject *Space_expand(SpaceObject *self, PyObject *arg) {
    const Cfg *c = &self->cfg;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Py_ssize_t width = 8 * c->words, n = view.len / width;
    if (view.len % width) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "the rows are not whole packed states");
        return NULL;
    }
    int64_t *own = malloc((size_t)(n ? n : 1) * sizeof(int64_t));
    Ctx x;
    memset(&x, 0, sizeof(x));
    x.c = c;
    x.emit = emit_search;
    Py_ssize_t done = 0;
    if (own) {
        Py_BEGIN_ALLOW_THREADS;
        const uint64_t *w = view.buf;
        St s;
        Row k;
        for (Py_ssize_t i = 0; i < n; i++) {
            unpack(c, w + i * c->words, &s);
            key_row(c, &s, &k);
            own[i] = (int64_t)row_fp(c, &k);
            done = i + 1;
            x.parent = (int)i;
            if (gen(&x, &s)) break;
        }
        Py_END_ALLOW_THREADS;
    }
    PyBuffer_Release(&view);
    PyObject *out = NULL;
    if (!own || x.oom) {
        PyErr_NoMemory();
    } else {
        PyObject *found = Py_None;
        Py_INCREF(found);
        if (x.found) {
            Py_DECREF(found);
            found = Py_BuildValue("(iNi)", x.parent, row_bytes(c, &x.found_row), x.found_inv);
        }
        if (found)
            out = Py_BuildValue(
                "(y#y#y#y#KNI)", nonnull(x.rows), (Py_ssize_t)(x.m * width), nonnull(x.fps),
                (Py_ssize_t)(x.m * 8), nonnull(x.parents), (Py_ssize_t)(x.m * 4),
                nonnull(own), (Py_ssize_t)(done * 8),
                (unsigned long long)x.generated, found, (unsigned)x.reached);
    }
    free(own);
    free(x.rows);
    free(x.fps);
    free(x.parents);
    return out;
}

static PyMethodDef Space_methods[] = {
    {"pack", (PyCFunction)Space_pack, METH_VARARGS, "a state's fields as a packed row"},
    {"unpack", (PyCFunction)Space_unpack, METH_O, "a packed row's fields"},
    {"key", (PyCFunction)Space_key, METH_O, "the canonical row (with symmetry) or the row"},
    {"fingerprint", (PyCFunction)Space_fingerprint, METH_O, "the 64-bit fingerprint of a row"},
    {"check", (PyCFunction)Space_check, METH_O, "invariants, sometimes, constraint of a row"},
    {"successors", (PyCFunction)Space_successors, METH_O, "every successor row, in order"},
    {"expand", (PyCFunction)Space_expand, METH_O, "expand a chunk of a BFS level"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Space_getset[] = {
    {"words", (getter)Space_words, NULL, "64-bit words of a packed state", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SpaceType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "electorate.spec.fast._election.Space",
    .tp_basicsize = sizeof(SpaceObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The packed election model of one Params.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Space_init,
    .tp_methods = Space_methods,
    .tp_getset = Space_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_election",
    .m_doc = "The election profile on packed states, in C.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__election(void) {
    if (PyType_Ready(&SpaceType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&SpaceType);
    if (PyModule_AddObject(m, "Space", (PyObject *)&SpaceType) < 0) {
        Py_DECREF(&SpaceType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
