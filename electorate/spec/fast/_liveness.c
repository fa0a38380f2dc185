/* The liveness models' quotients on packed states, in C: the successors of a state, for the
 * searches of app/liveness_search.py (spec/liveness/, model_check/liveness.py). Two quotients
 * (spec/liveness/quotient.py): the capped one (term gaps capped, both representatives stepped:
 * the search for holds), and, with a span, the exact one (terms shifted so the smallest
 * server's is 1, `lowest`; a successor whose live terms are more than span apart is marked
 * CUT, ShiftedRaftModel.in_constraint: the deep search for violations).
 *
 * The readable spec is the reference and this is a second rendering of it for speed:
 * spec/next.py's `_liveness` over the liveness action table (spec/liveness/steps.py: Timeout,
 * LuckyTimeout, Heartbeat, ElectionTimer, Deliver, and DropMessage, Stabilize, Lull), each
 * step followed by network.settle, timing.close_window, quotient.clear_dead and
 * quotient.normalise, from both of quotient.representatives. Handlers are restated.Receive's
 * with the PreVote, CheckQuorum and untimed lease features (the lease of a liveness model is the
 * follower's promise alone: features/lease.py; no options, no bug variants); logs stay
 * empty in a liveness model, so every log check passes and the log variables keep their
 * initial values (not stored). tests/spec/test_fast_liveness.py holds it to the readable spec:
 * the same set of (fair instance, successor) pairs on every state of small models of each
 * topology and feature mix, in both quotients. Successors are yielded as a set: two readable successors that differ
 * only in the handler's label are one here (the fair-cycle search reads instances, not labels).
 *
 * A packed state (bytes), n servers: per server 8 bytes (term, role, vote + 1, votesResponded,
 * votesGranted, prevotesGranted, heardLeader, acked), then stable and lucky (0: none, k + 1:
 * server k, 255: a Lull window), then the messages, 3 bytes each in increasing order:
 * (type * 4 + pre-vote * 2 + granted-or-success, source * 16 + destination, term; 0: stale).
 * spec/fast/liveness.py packs readable States the same way.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAXN 7
#define MAXM 64   /* messages in flight, in the middle of a step included */
#define MAXOUT 256 /* successors of one state */
#define MAXB (8 * MAXN + 2 + 3 * MAXM)

enum { FOLLOWER = 0, CANDIDATE = 1, LEADER = 2, PRECANDIDATE = 3 };
enum { RVQ = 0, RVR = 1, AEQ = 2, AER = 3 };
enum { NIL = -1, LULL = 100 };
enum { K_TIMEOUT, K_LUCKY, K_HEARTBEAT, K_TIMER, K_DELIVER, K_DROP, K_STABILIZE, K_LULL };

typedef struct {
    uint8_t type, pre, flag, src, dst;
    int term;
    int cnt;
} Msg;

typedef struct {
    int term[MAXN];
    uint8_t role[MAXN];
    int voted[MAXN];
    uint8_t resp[MAXN], granted[MAXN], prevotes[MAXN], heard[MAXN], acked[MAXN];
    uint8_t stable;
    int lucky;
    int nm;
    Msg m[MAXM];
} St;

typedef struct {
    int n, prevote, check_quorum, lease;
    int span; /* 0: the capped quotient; else the exact one, live terms at most span apart */
    uint8_t up[MAXN][MAXN];
    uint8_t qconn[MAXN];
} Cfg;

typedef struct {
    int len;
    uint8_t b[MAXB];
} Packed;

static int overflow; /* a state outside what the packed form holds: reported as an error */

static inline int is_quorum(const Cfg *c, unsigned mask) {
    return __builtin_popcount(mask) * 2 > c->n;
}

static inline int msg_eq(const Msg *a, const Msg *b) {
    return a->type == b->type && a->pre == b->pre && a->flag == b->flag && a->src == b->src &&
           a->dst == b->dst && a->term == b->term;
}

static inline Msg mk(int type, int term, int src, int dst, int flag, int pre) {
    Msg m = {(uint8_t)type, (uint8_t)pre, (uint8_t)flag, (uint8_t)src, (uint8_t)dst, term, 1};
    return m;
}

/* TLA+ WithMessage / WithoutMessage on the bag (copies counted, as spec/messages.py). */
static void bag_send(St *s, Msg m) {
    for (int k = 0; k < s->nm; k++)
        if (msg_eq(&s->m[k], &m)) {
            s->m[k].cnt++;
            return;
        }
    if (s->nm >= MAXM) {
        overflow = 1;
        return;
    }
    m.cnt = 1;
    s->m[s->nm++] = m;
}

static void bag_discard(St *s, const Msg *m) {
    for (int k = 0; k < s->nm; k++)
        if (msg_eq(&s->m[k], m)) {
            if (--s->m[k].cnt == 0) {
                s->m[k] = s->m[s->nm - 1];
                s->nm--;
            }
            return;
        }
}

static int bag_copies(const St *s, const Msg *m) {
    for (int k = 0; k < s->nm; k++)
        if (msg_eq(&s->m[k], m)) return s->m[k].cnt;
    return 0;
}

static void reply(St *s, Msg response, const Msg *request) {
    bag_send(s, response);
    bag_discard(s, request);
}

/* ---- packing --------------------------------------------------------------------------------- */

static int msg_cmp(const void *a, const void *b) {
    return memcmp(a, b, 3);
}

static void pack(const Cfg *c, const St *s, Packed *p) {
    uint8_t *b = p->b;
    int n = c->n, k = 0;
    for (int i = 0; i < n; i++) {
        if (s->term[i] < 0 || s->term[i] > 255) overflow = 1;
        b[k++] = (uint8_t)s->term[i];
        b[k++] = s->role[i];
        b[k++] = (uint8_t)(s->voted[i] + 1);
        b[k++] = s->resp[i];
        b[k++] = s->granted[i];
        b[k++] = s->prevotes[i];
        b[k++] = s->heard[i];
        b[k++] = s->acked[i];
    }
    b[k++] = s->stable;
    b[k++] = (uint8_t)(s->lucky == NIL ? 0 : s->lucky == LULL ? 255 : s->lucky + 1);
    int first = k;
    for (int j = 0; j < s->nm; j++) {
        const Msg *m = &s->m[j];
        if (m->term < 0 || m->term > 255) overflow = 1;
        b[k++] = (uint8_t)(m->type * 4 + m->pre * 2 + m->flag);
        b[k++] = (uint8_t)(m->src * 16 + m->dst);
        b[k++] = (uint8_t)m->term;
    }
    qsort(b + first, (size_t)s->nm, 3, msg_cmp);
    p->len = k;
}

static int unpack(const Cfg *c, const uint8_t *b, Py_ssize_t len, St *s) {
    int n = c->n, k = 0;
    if (len < 8 * n + 2 || (len - 8 * n - 2) % 3 || (len - 8 * n - 2) / 3 > MAXM) return -1;
    for (int i = 0; i < n; i++) {
        s->term[i] = b[k++];
        s->role[i] = b[k++];
        s->voted[i] = (int)b[k++] - 1;
        s->resp[i] = b[k++];
        s->granted[i] = b[k++];
        s->prevotes[i] = b[k++];
        s->heard[i] = b[k++];
        s->acked[i] = b[k++];
        if (s->role[i] > PRECANDIDATE || s->voted[i] >= n) return -1;
    }
    s->stable = b[k++];
    uint8_t l = b[k++];
    s->lucky = l == 0 ? NIL : l == 255 ? LULL : l - 1;
    s->nm = 0;
    while (k < len) {
        Msg m = mk(b[k] >> 2, b[k + 2], b[k + 1] >> 4, b[k + 1] & 15, b[k] & 1, b[k] >> 1 & 1);
        if (m.src >= n || m.dst >= n) return -1;
        s->m[s->nm++] = m;
        k += 3;
    }
    return 0;
}

/* ---- timing (spec/liveness/timing.py) ------------------------------------------------------- */

static int leader_reaches(const Cfg *c, const St *s, int i) {
    int term = s->term[i], voted = s->voted[i];
    for (int k = 0; k < c->n; k++) {
        if (k == i || s->term[k] != term || !c->up[k][i]) continue;
        if (s->role[k] == LEADER || (k == voted && s->role[k] == CANDIDATE)) return 1;
    }
    return 0;
}

static int vote_traffic(const St *s) {
    for (int k = 0; k < s->nm; k++)
        if (s->m[k].type == RVQ || s->m[k].type == RVR) return 1;
    return 0;
}

static int may_time_out(const Cfg *c, const St *s, int i) {
    return !s->stable || (s->lucky == NIL && !leader_reaches(c, s, i));
}

static int timer_may_run_out(const Cfg *c, const St *s, int i) {
    if (!s->stable) return 1;
    if (s->role[i] == LEADER) {
        int heard = !c->check_quorum || is_quorum(c, s->acked[i]);
        return heard || !c->qconn[i];
    }
    return !leader_reaches(c, s, i);
}

/* timing.round_traffic: a (pre-)vote request of i's, or an answer to i, is in flight. */
static int round_traffic(const St *s, int i) {
    for (int k = 0; k < s->nm; k++)
        if ((s->m[k].type == RVQ && s->m[k].src == i) || (s->m[k].type == RVR && s->m[k].dst == i))
            return 1;
    return 0;
}

static void close_window(St *s) {
    int w = s->lucky;
    if (w == NIL) return;
    if (w == LULL && vote_traffic(s)) return;
    if (w != LULL && (s->role[w] == CANDIDATE || s->role[w] == PRECANDIDATE) && round_traffic(s, w))
        return;
    s->lucky = NIL;
}

/* ---- feature bookkeeping (features/variables.py) ------------------------------------------- */

static void clear_role_vars(const Cfg *c, St *s, int i) {
    if (s->role[i] != PRECANDIDATE && c->prevote) s->prevotes[i] = 0;
    if (s->role[i] != LEADER && c->check_quorum) s->acked[i] = 0;
}

static void lose_leader(const Cfg *c, St *s, int i) {
    s->heard[i] = 0;
    clear_role_vars(c, s, i);
}

/* ---- Receive (features/restated.py, actions.py, features/prevote.py) ---------------------- */

/* restated.Receive(m) on s: 0 when no handler is enabled (the message waits). */
static int receive(const Cfg *c, St *s, const Msg *mp) {
    Msg m = *mp;
    int i = m.dst, j = m.src, term = s->term[i];
    int sticky = c->check_quorum || c->lease; /* variables.sticky */
    if (m.pre && m.type == RVQ) { /* HandlePreVoteRequest */
        if (m.term > term && s->heard[i]) {
            bag_discard(s, &m);
            return 1;
        }
        int fresh = m.term > term || (m.term == term && (s->voted[i] == NIL || s->voted[i] == j));
        int grant = fresh && !s->heard[i];
        reply(s, mk(RVR, grant ? m.term : term, i, j, grant, 1), &m);
        return 1;
    }
    int newer = m.term > term;
    if (newer && m.type == RVQ && sticky && s->heard[i]) { /* IgnoreVoteRequestInLease */
        bag_discard(s, &m);
        return 1;
    }
    if (newer && m.type != AEQ && sticky && s->heard[i] && s->role[i] != LEADER) {
        bag_discard(s, &m); /* IgnoreNewerTermInLease */
        return 1;
    }
    if (!(m.pre && m.flag) && newer) { /* UpdateTerm: the message stays */
        s->term[i] = m.term;
        s->role[i] = FOLLOWER;
        s->voted[i] = NIL;
        lose_leader(c, s, i);
        return 1;
    }
    if (m.pre) { /* HandlePreVoteResponse */
        if (m.flag && s->role[i] == PRECANDIDATE && m.term == term + 1)
            s->prevotes[i] |= (uint8_t)(1u << j);
        bag_discard(s, &m);
        return 1;
    }
    if (m.type == RVQ) { /* HandleRequestVoteRequest (m.term <= term; logs empty) */
        int grant = m.term == term && (s->voted[i] == NIL || s->voted[i] == j);
        if (grant) s->voted[i] = j;
        reply(s, mk(RVR, term, i, j, grant, 0), &m);
        return 1;
    }
    if (m.type == AEQ) { /* restated.HandleAppendEntriesRequest */
        int own = m.term == term;
        uint8_t role = s->role[i];
        if (own && role == PRECANDIDATE) {
            s->role[i] = FOLLOWER;
            clear_role_vars(c, s, i);
            return 1;
        }
        if (m.term < term) {
            reply(s, mk(AER, term, i, j, 0, 0), &m);
            return 1;
        }
        if (role == CANDIDATE) {
            s->role[i] = FOLLOWER;
            return 1;
        }
        if (role != FOLLOWER) return 0;
        reply(s, mk(AER, term, i, j, 1, 0), &m);
        s->heard[i] = 1; /* own term, as a follower: hear_leader */
        return 1;
    }
    if (m.term < term) { /* DropStaleResponse */
        bag_discard(s, &m);
        return 1;
    }
    if (m.type == RVR) { /* HandleRequestVoteResponse (m.term == term) */
        s->resp[i] |= (uint8_t)(1u << j);
        if (m.flag) s->granted[i] |= (uint8_t)(1u << j);
        bag_discard(s, &m);
        return 1;
    }
    /* restated.HandleAppendEntriesResponse (m.term == term) */
    if (s->role[i] == LEADER && c->check_quorum) s->acked[i] |= (uint8_t)(1u << j);
    bag_discard(s, &m);
    return 1;
}

/* ---- steps (spec/liveness/steps.py) ---------------------------------------------------------- */

static void campaign(const Cfg *c, St *s, int i);

static void broadcast(const Cfg *c, St *s, int i) {
    for (int j = 0; j < c->n; j++)
        if (j != i) bag_send(s, mk(AEQ, s->term[i], i, j, 0, 0));
}

/* actions.Timeout(as_follower(s, i), i): a candidate of the next term. */
static void become_candidate(St *s, int i) {
    s->role[i] = CANDIDATE;
    s->term[i]++;
    s->voted[i] = NIL;
    s->resp[i] = 0;
    s->granted[i] = 0;
}

static void advance(const Cfg *c, St *s, int i) {
    if (s->role[i] == PRECANDIDATE) {
        if (!is_quorum(c, s->prevotes[i])) return;
        become_candidate(s, i); /* StartElection */
        s->prevotes[i] = 0;
        campaign(c, s, i);
        return;
    }
    if (s->role[i] == CANDIDATE && is_quorum(c, s->granted[i])) { /* BecomeLeader */
        s->role[i] = LEADER;
        s->heard[i] = 1;
        if (c->check_quorum) s->acked[i] = (uint8_t)(1u << i);
        broadcast(c, s, i);
    }
}

/* RequestVote(i, j) or RequestPreVote(i, j); 0 when not enabled. */
static int ask(St *s, int i, int j) {
    if (s->role[i] == PRECANDIDATE) {
        if (s->prevotes[i] >> j & 1) return 0;
        bag_send(s, mk(RVQ, s->term[i] + 1, i, j, 0, 1));
        return 1;
    }
    if (s->role[i] != CANDIDATE || (s->resp[i] >> j & 1)) return 0;
    bag_send(s, mk(RVQ, s->term[i], i, j, 0, 0));
    return 1;
}

static void drain_self(const Cfg *c, St *s, int i) {
    for (int round = 0; round < 8; round++) {
        int k = 0;
        while (k < s->nm && !(s->m[k].src == i && s->m[k].dst == i)) k++;
        if (k == s->nm) return;
        Msg m = s->m[k];
        St t = *s;
        if (!receive(c, &t, &m)) return;
        *s = t;
    }
}

static void campaign(const Cfg *c, St *s, int i) {
    ask(s, i, i);
    drain_self(c, s, i);
    for (int j = 0; j < c->n; j++)
        if (j != i) ask(s, i, j);
    advance(c, s, i);
}

static int timeout(const Cfg *c, const St *s, int i, St *t) {
    if (!may_time_out(c, s, i) || s->heard[i] || s->role[i] == LEADER) return 0;
    *t = *s;
    if (!c->prevote) {
        become_candidate(t, i);
    } else { /* PreVoteTimeout: term and vote kept */
        t->role[i] = PRECANDIDATE;
        t->resp[i] = 0;
        t->granted[i] = 0;
        t->prevotes[i] = 0;
    }
    campaign(c, t, i);
    return 1;
}

static int election_timer(const Cfg *c, const St *s, int i, St *t) {
    if (!timer_may_run_out(c, s, i)) return 0;
    *t = *s;
    if (s->role[i] == LEADER) { /* check_quorum.LeaderTimer */
        if (!c->check_quorum) return 0;
        if (is_quorum(c, s->acked[i])) {
            t->acked[i] = (uint8_t)(1u << i);
            return 1;
        }
        t->role[i] = FOLLOWER;
        lose_leader(c, t, i);
        return 1;
    }
    if (!s->heard[i]) return 0;
    lose_leader(c, t, i);
    return 1;
}

static int deliver(const Cfg *c, const St *s, const Msg *m, St *t) {
    int before = bag_copies(s, m);
    *t = *s;
    int k = 0;
    for (; k < 4; k++) {
        if (!receive(c, t, m)) return 0;
        if (bag_copies(t, m) < before) break;
    }
    if (k == 4) return 0;
    advance(c, t, m->dst);
    return 1;
}

/* ---- after a step: network.settle, timing.close_window, quotient.clear_dead, normalise ------ */

static int dead(const St *s, const Msg *m) {
    int i = m->dst, term = s->term[i];
    if (m->type == RVR) {
        if (m->pre) return m->term <= term;
        return m->term < term || (m->term == term && s->role[i] != CANDIDATE);
    }
    if (m->type == AER) return m->term < term || (m->term == term && s->role[i] != LEADER);
    return 0;
}

static inline int same_slot(const Msg *a, const Msg *b) {
    return a->src == b->src && a->dst == b->dst && a->type == b->type && a->pre == b->pre;
}

static void settle(const Cfg *c, const St *before, St *after) {
    uint8_t fresh[MAXM];
    for (int k = 0; k < after->nm; k++) {
        fresh[k] = 1;
        for (int x = 0; x < before->nm; x++)
            if (msg_eq(&before->m[x], &after->m[k])) {
                fresh[k] = 0;
                break;
            }
    }
    Msg kept[MAXM];
    int nk = 0;
    for (int k = 0; k < after->nm; k++) {
        Msg m = after->m[k];
        if (!c->up[m.src][m.dst] || dead(after, &m)) continue;
        if (!fresh[k]) {
            int superseded = 0;
            for (int x = 0; x < after->nm; x++)
                if (fresh[x] && same_slot(&after->m[x], &m)) superseded = 1;
            if (superseded) continue;
        }
        if ((m.type == RVQ || m.type == AEQ) && m.term < after->term[m.dst]) m.term = 0;
        m.cnt = 1;
        int dup = 0;
        for (int x = 0; x < nk; x++)
            if (msg_eq(&kept[x], &m)) dup = 1;
        if (!dup) kept[nk++] = m;
    }
    memcpy(after->m, kept, sizeof(Msg) * (size_t)nk);
    after->nm = nk;
}

static void clear_dead(const Cfg *c, St *s) {
    for (int i = 0; i < c->n; i++)
        if (s->role[i] != CANDIDATE) s->resp[i] = s->granted[i] = 0;
}

/* The live terms, ascending, distinct; returns how many. */
static int live_terms(const Cfg *c, const St *s, int *out) {
    int k = 0;
    int all[MAXN + MAXM];
    for (int i = 0; i < c->n; i++) all[k++] = s->term[i];
    for (int x = 0; x < s->nm; x++)
        if (s->m[x].term != 0) all[k++] = s->m[x].term;
    int d = 0;
    for (int a = 0; a < k; a++) { /* insertion into a sorted distinct list */
        int v = all[a], p = 0;
        while (p < d && out[p] < v) p++;
        if (p < d && out[p] == v) continue;
        memmove(out + p + 1, out + p, sizeof(int) * (size_t)(d - p));
        out[p] = v;
        d++;
    }
    return d;
}

static int map_term(const int *terms, const int *to, int d, int t) {
    if (t == 0) return 0;
    for (int k = 0; k < d; k++)
        if (terms[k] == t) return to[k];
    return t;
}

static void renumber(const Cfg *c, St *s, const int *terms, const int *to, int d) {
    for (int i = 0; i < c->n; i++) s->term[i] = map_term(terms, to, d, s->term[i]);
    for (int x = 0; x < s->nm; x++) s->m[x].term = map_term(terms, to, d, s->m[x].term);
}

#define GAP 2
#define CUT (1 << 16) /* an instance code's flag: the successor is outside the span */

/* quotient.lowest: every term shifted so that the smallest server's is 1 (stale stays 0). */
static void lowest(const Cfg *c, St *s) {
    int low = s->term[0];
    for (int i = 1; i < c->n; i++)
        if (s->term[i] < low) low = s->term[i];
    int d = 1 - low;
    if (!d) return;
    for (int i = 0; i < c->n; i++) s->term[i] += d;
    for (int x = 0; x < s->nm; x++)
        if (s->m[x].term) s->m[x].term += d;
}

/* ShiftedRaftModel.in_constraint: the live terms at most span apart. */
static int within_span(const Cfg *c, const St *s) {
    int terms[MAXN + MAXM];
    int d = live_terms(c, s, terms);
    return terms[d - 1] - terms[0] <= c->span;
}

static void normalise(const Cfg *c, St *s) {
    int terms[MAXN + MAXM], to[MAXN + MAXM];
    int d = live_terms(c, s, terms);
    int k = 0;
    for (int x = 0; x < d; x++) {
        int gap = x ? terms[x] - terms[x - 1] : 1;
        k += gap < GAP ? gap : GAP;
        to[x] = k;
    }
    renumber(c, s, terms, to, d);
}

/* The wide twin of representatives(): every capped gap GAP + 1; 0 when s has no capped gap. */
static int wide_twin(const Cfg *c, const St *s, St *t) {
    int terms[MAXN + MAXM], to[MAXN + MAXM];
    int d = live_terms(c, s, terms), capped = 0;
    for (int x = 1; x < d; x++)
        if (terms[x] - terms[x - 1] >= GAP) capped = 1;
    if (!capped) return 0;
    for (int x = 0; x < d; x++) {
        if (x == 0) {
            to[x] = terms[x];
            continue;
        }
        int gap = terms[x] - terms[x - 1];
        to[x] = to[x - 1] + (gap >= GAP ? gap + 1 : gap);
    }
    *t = *s;
    renumber(c, t, terms, to, d);
    return 1;
}

/* ---- Next ---------------------------------------------------------------------------------- */

typedef struct {
    int n;
    int inst[MAXOUT];
    Packed out[MAXOUT];
} Out;

static inline int slot_code(const Msg *m) {
    return ((m->src * 8 + m->dst) * 4 + m->type) * 2 + m->pre;
}

static void emit(const Cfg *c, const St *rep, const Packed *rep_packed, St *t, int inst, Out *o) {
    settle(c, rep, t);
    close_window(t);
    clear_dead(c, t);
    Packed u;
    pack(c, t, &u);
    if (u.len == rep_packed->len && !memcmp(u.b, rep_packed->b, (size_t)u.len)) return;
    if (c->span) {
        lowest(c, t);
        if (!within_span(c, t)) inst |= CUT;
    } else {
        normalise(c, t);
    }
    pack(c, t, &u);
    for (int k = 0; k < o->n; k++)
        if (o->inst[k] == inst && o->out[k].len == u.len && !memcmp(o->out[k].b, u.b, (size_t)u.len))
            return;
    if (o->n >= MAXOUT) {
        overflow = 1;
        return;
    }
    o->inst[o->n] = inst;
    o->out[o->n++] = u;
}

static void step_all(const Cfg *c, const St *r, Out *o) {
    St t;
    Packed rp;
    pack(c, r, &rp);
    int n = c->n;
    for (int i = 0; i < n; i++)
        if (timeout(c, r, i, &t)) emit(c, r, &rp, &t, K_TIMEOUT * 1024 + i, o);
    for (int i = 0; i < n; i++) { /* LuckyTimeout: R's premise, then Timeout */
        if (!(r->stable && r->lucky == NIL)) continue;
        if (!timeout(c, r, i, &t)) continue;
        t.lucky = i;
        /* its situation names its fair instance (timing.situation; IN_TRAFFIC in liveness.py) */
        emit(c, r, &rp, &t, K_LUCKY * 1024 + i + (vote_traffic(r) ? 512 : 0), o);
    }
    for (int i = 0; i < n; i++)
        if (r->role[i] == LEADER) {
            t = *r;
            broadcast(c, &t, i);
            emit(c, r, &rp, &t, K_HEARTBEAT * 1024 + i, o);
        }
    for (int i = 0; i < n; i++)
        if (election_timer(c, r, i, &t)) emit(c, r, &rp, &t, K_TIMER * 1024 + i, o);
    for (int k = 0; k < r->nm; k++)
        if (deliver(c, r, &r->m[k], &t)) emit(c, r, &rp, &t, K_DELIVER * 1024 + slot_code(&r->m[k]), o);
    if (!r->stable)
        for (int k = 0; k < r->nm; k++) {
            t = *r;
            bag_discard(&t, &r->m[k]);
            emit(c, r, &rp, &t, K_DROP * 1024 + slot_code(&r->m[k]), o);
        }
    if (!r->stable) {
        t = *r;
        t.stable = 1;
        emit(c, r, &rp, &t, K_STABILIZE * 1024, o);
    }
    if (r->stable && r->lucky == NIL && vote_traffic(r)) {
        t = *r;
        t.lucky = LULL;
        emit(c, r, &rp, &t, K_LULL * 1024, o);
    }
}

static void successors(const Cfg *c, const St *s, Out *o) {
    St wide;
    o->n = 0;
    step_all(c, s, o);
    if (!c->span && wide_twin(c, s, &wide)) step_all(c, &wide, o);
}

/* ---- Python ---------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD Cfg cfg;
    Out out;
} SpaceObject;

static int Space_init(SpaceObject *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"servers", "links", "prevote", "check_quorum", "lease", "span", NULL};
    Cfg *c = &self->cfg;
    PyObject *links;
    memset(c, 0, sizeof(*c));
    if (!PyArg_ParseTupleAndKeywords(args, kw, "iOppp|i", names, &c->n, &links, &c->prevote,
                                     &c->check_quorum, &c->lease, &c->span))
        return -1;
    if (c->span < 0 || c->span > 64) {
        PyErr_SetString(PyExc_ValueError, "span: 0 (the capped quotient) or 1 to 64");
        return -1;
    }
    if (c->n < 1 || c->n > MAXN) {
        PyErr_Format(PyExc_ValueError, "the packed liveness model holds 1 to %d servers", MAXN);
        return -1;
    }
    PyObject *seq = PySequence_Fast(links, "links: a sequence of (source, destination) pairs");
    if (!seq) return -1;
    for (int i = 0; i < c->n; i++) c->up[i][i] = 1;
    for (Py_ssize_t k = 0; k < PySequence_Fast_GET_SIZE(seq); k++) {
        int a, b;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, k), "ii", &a, &b)) {
            Py_DECREF(seq);
            return -1;
        }
        if (a < 0 || b < 0 || a >= c->n || b >= c->n) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_ValueError, "a link names an unknown server");
            return -1;
        }
        c->up[a][b] = 1;
    }
    Py_DECREF(seq);
    for (int i = 0; i < c->n; i++) {
        unsigned peers = 0;
        for (int j = 0; j < c->n; j++)
            if (c->up[i][j] && c->up[j][i]) peers |= 1u << j;
        c->qconn[i] = (uint8_t)is_quorum(c, peers);
    }
    return 0;
}

/* successors(state) -> a list of (successor, instance code), each pair once. */
static PyObject *Space_successors(SpaceObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    St s;
    int bad = unpack(&self->cfg, (const uint8_t *)view.buf, view.len, &s);
    PyBuffer_Release(&view);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "not a packed state of this model");
        return NULL;
    }
    overflow = 0;
    Out *o = &self->out;
    successors(&self->cfg, &s, o);
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "a state outside the packed form's bounds");
        return NULL;
    }
    PyObject *list = PyList_New(o->n);
    if (!list) return NULL;
    for (int k = 0; k < o->n; k++) {
        PyObject *item = Py_BuildValue("(y#i)", (const char *)o->out[k].b,
                                       (Py_ssize_t)o->out[k].len, o->inst[k]);
        if (!item) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, item);
    }
    return list;
}

static PyMethodDef Space_methods[] = {
    {"successors", (PyCFunction)Space_successors, METH_O,
     "every (successor, instance code) pair of a packed state, each once (code | CUT: the "
     "successor is outside the span)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SpaceType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "electorate.spec.fast._liveness.Space",
    .tp_basicsize = sizeof(SpaceObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The packed capped quotient of one liveness model.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Space_init,
    .tp_methods = Space_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_liveness",
    .m_doc = "The liveness models' capped quotient on packed states, in C.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__liveness(void) {
    if (PyType_Ready(&SpaceType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&SpaceType);
    if (PyModule_AddIntConstant(m, "CUT", CUT) < 0 ||
        PyModule_AddObject(m, "Space", (PyObject *)&SpaceType) < 0) {
        Py_DECREF(&SpaceType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
