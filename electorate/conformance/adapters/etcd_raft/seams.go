package main

// The three places where the adapter reaches past RawNode's public API, each read-only or
// test-only, and why:
//
//   - etcd 3.4 draws every randomized election timeout from one package-level generator seeded
//     from the wall clock, with no way to inject a seed. The harness replays every run, so the
//     adapter reseeds that generator from init's seed (seedElectionTimeouts).
//   - RawNode.Step refuses local messages, and MsgBeat is local: the only public way to make a
//     leader send heartbeats is Tick, which also advances its election clock (and so, with
//     CheckQuorum, its quorum check). The harness's `heartbeat` timer is "the heartbeat timer
//     fires" with no election time passing, which is exactly the MsgBeat that etcd's own
//     tickHeartbeat steps; stepLocal hands it to the inner raft's Step.
//   - RawNode reports term, vote, role and leader (Status) but not the vote tally the
//     observation needs while a candidate; votesGranted reads it.

import (
	"math/rand"
	"reflect"
	"sort"
	"sync"
	"unsafe"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"
)

// lockedRand has the layout of etcd raft's lockedRand (raft.go, 3.4).
type lockedRand struct {
	mu   sync.Mutex
	rand *rand.Rand
}

//go:linkname etcdGlobalRand go.etcd.io/etcd/raft.globalRand
var etcdGlobalRand unsafe.Pointer // *lockedRand; declared untyped so the linker accepts it

// seedElectionTimeouts makes etcd's randomized election timeouts a function of seed.
func seedElectionTimeouts(seed int64) {
	g := (*lockedRand)(etcdGlobalRand)
	g.mu.Lock()
	g.rand = rand.New(rand.NewSource(seed))
	g.mu.Unlock()
}

// inner is the *raft inside a RawNode, as a reflect.Value whose exported methods can be called.
func inner(rn *raft.RawNode) reflect.Value {
	f := reflect.ValueOf(rn).Elem().FieldByName("raft")
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

// stepLocal steps a local message (MsgBeat) into the node's raft, as its own ticker would.
func stepLocal(rn *raft.RawNode, m pb.Message) error {
	out := inner(rn).MethodByName("Step").Call([]reflect.Value{reflect.ValueOf(m)})
	if err, _ := out[0].Interface().(error); err != nil {
		return err
	}
	return nil
}

// votesGranted lists the voters whose grant the node has recorded in its current campaign.
func votesGranted(rn *raft.RawNode) []uint64 {
	votes := inner(rn).Elem().FieldByName("prs").FieldByName("Votes")
	var out []uint64
	it := votes.MapRange()
	for it.Next() {
		if it.Value().Bool() {
			out = append(out, it.Key().Uint())
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}
