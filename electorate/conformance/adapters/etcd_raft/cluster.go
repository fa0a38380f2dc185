package main

// N etcd raft nodes in one process, each a RawNode over its own durable store. Every step runs
// the touched node to quiescence through etcd's Ready contract: entries and HardState are
// written to the store before the Ready's messages are collected, then Advance.

import (
	"fmt"
	"io/ioutil"
	"log"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"
)

// The values etcd server 3.4 runs with: a 100 ms tick, a 1 s election timeout, 100 ms
// heartbeats, 1 MiB append messages and 512 in flight (etcdserver/raft.go).
const (
	electionTicks   = 10
	heartbeatTicks  = 1
	maxSizePerMsg   = 1 << 20
	maxInflightMsgs = 512
)

// store is a node's durable state: MemoryStorage holds the HardState and the log (the adapter
// never compacts, so no snapshot), and the fixed voter set is the ConfState a restart reads.
type store struct {
	*raft.MemoryStorage
	voters []uint64
}

func (s store) InitialState() (pb.HardState, pb.ConfState, error) {
	hs, _, err := s.MemoryStorage.InitialState()
	return hs, pb.ConfState{Voters: s.voters}, err
}

type node struct {
	id    uint64
	rn    *raft.RawNode // nil while crashed
	store store
}

type cluster struct {
	nodes       []*node // nodes[k] has id k+1
	preVote     bool
	checkQuorum bool
}

// initial is one node's starting point from init: its HardState and the last entry of its log,
// earlier entries being of term 1 (docs/conformance.md, the static log).
type initial struct {
	Term         *uint64 `json:"term"`
	VotedFor     *string `json:"voted_for"`
	LastLogIndex uint64  `json:"last_log_index"`
	LastLogTerm  uint64  `json:"last_log_term"`
}

func newCluster(names []string, init map[string]initial, preVote, checkQuorum bool) (*cluster, error) {
	n := len(names)
	voters := make([]uint64, n)
	for k, name := range names {
		if name != nodeName(uint64(k+1)) {
			return nil, fmt.Errorf("nodes must be n1..n%d in order, got %q at position %d", n, name, k+1)
		}
		voters[k] = uint64(k + 1)
	}
	c := &cluster{preVote: preVote, checkQuorum: checkQuorum}
	for k, name := range names {
		st, err := initialStore(init[name], voters, n)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		nd := &node{id: uint64(k + 1), store: st}
		c.nodes = append(c.nodes, nd)
		if err := c.start(nd); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func initialStore(in initial, voters []uint64, n int) (store, error) {
	ms := raft.NewMemoryStorage()
	var hs pb.HardState
	if in.Term != nil {
		hs.Term = *in.Term
	}
	if in.VotedFor != nil {
		v, err := nodeID(*in.VotedFor, n)
		if err != nil {
			return store{}, err
		}
		hs.Vote = v
	}
	if in.LastLogIndex > 0 && in.LastLogTerm == 0 {
		return store{}, fmt.Errorf("a log of %d entries needs a last term >= 1", in.LastLogIndex)
	}
	ents := make([]pb.Entry, 0, in.LastLogIndex)
	for i := uint64(1); i <= in.LastLogIndex; i++ {
		term := uint64(1)
		if i == in.LastLogIndex {
			term = in.LastLogTerm
		}
		ents = append(ents, pb.Entry{Term: term, Index: i, Data: entryData(1)})
	}
	if err := ms.Append(ents); err != nil {
		return store{}, err
	}
	if err := ms.SetHardState(hs); err != nil {
		return store{}, err
	}
	return store{ms, voters}, nil
}

// start builds the node's RawNode from its durable store only (also a restart).
func (c *cluster) start(nd *node) error {
	cfg := &raft.Config{
		ID:              nd.id,
		ElectionTick:    electionTicks,
		HeartbeatTick:   heartbeatTicks,
		Storage:         nd.store,
		MaxSizePerMsg:   maxSizePerMsg,
		MaxInflightMsgs: maxInflightMsgs,
		PreVote:         c.preVote,
		CheckQuorum:     c.checkQuorum,
		Logger:          raftLogger(),
	}
	rn, err := raft.NewRawNode(cfg)
	if err != nil {
		return err
	}
	nd.rn = rn
	return nil
}

var logger raft.Logger

// raftLogger discards etcd's log unless ELECTORATE_ETCD_LOG is set (stderr is free-form, but
// etcd logs every step at INFO). Panics still panic.
func raftLogger() raft.Logger {
	if logger == nil {
		out := ioutil.Discard
		if logToStderr {
			out = stderr
		}
		logger = &raft.DefaultLogger{Logger: log.New(out, "etcd-raft ", 0)}
	}
	return logger
}

// drain runs etcd's Ready loop to quiescence: persist, collect messages, Advance.
func (nd *node) drain() ([]pb.Message, error) {
	var out []pb.Message
	for nd.rn.HasReady() {
		rd := nd.rn.Ready()
		if !raft.IsEmptyHardState(rd.HardState) {
			if err := nd.store.SetHardState(rd.HardState); err != nil {
				return nil, err
			}
		}
		if !raft.IsEmptySnap(rd.Snapshot) {
			return nil, fmt.Errorf("n%d: etcd produced a snapshot, which this adapter never asks for", nd.id)
		}
		if err := nd.store.Append(rd.Entries); err != nil {
			return nil, err
		}
		out = append(out, rd.Messages...)
		nd.rn.Advance(rd)
	}
	return out, nil
}

func (c *cluster) node(name string) (*node, error) {
	id, err := nodeID(name, len(c.nodes))
	if err != nil {
		return nil, cmdErr("unknown_node", err.Error())
	}
	return c.nodes[id-1], nil
}

func (c *cluster) up(name string) (*node, error) {
	nd, err := c.node(name)
	if err != nil {
		return nil, err
	}
	if nd.rn == nil {
		return nil, cmdErr("node_down", fmt.Sprintf("node %s is crashed", name))
	}
	return nd, nil
}

// election: the node's election timer runs out. It ticks until etcd's own tickElection
// campaigns (its randomized timeout, at most 2 x ElectionTick ticks). A leader has no election
// timer (its ticks are heartbeats), so nothing happens there.
func (c *cluster) election(nd *node) ([]pb.Message, error) {
	if nd.rn.BasicStatus().RaftState == raft.StateLeader {
		return nil, nil
	}
	for k := 0; k < 2*electionTicks && !nd.rn.HasReady(); k++ {
		nd.rn.Tick()
	}
	return nd.drain()
}

// heartbeat: the leader's heartbeat timer fires (MsgBeat, as etcd's tickHeartbeat steps it);
// no election time passes. Followers and candidates ignore MsgBeat.
func (c *cluster) heartbeat(nd *node) ([]pb.Message, error) {
	if err := stepLocal(nd.rn, pb.Message{From: nd.id, Type: pb.MsgBeat}); err != nil {
		return nil, err
	}
	return nd.drain()
}

// period: an election period elapses at the node: ElectionTick ticks, each drained as a node's
// loop would.
func (c *cluster) period(nd *node) ([]pb.Message, error) {
	var out []pb.Message
	for k := 0; k < electionTicks; k++ {
		nd.rn.Tick()
		msgs, err := nd.drain()
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

func (c *cluster) deliver(m pb.Message) ([]pb.Message, error) {
	nd := c.nodes[m.To-1]
	if nd.rn == nil {
		return nil, cmdErr("node_down", fmt.Sprintf("node %s is crashed", nodeName(m.To)))
	}
	if err := nd.rn.Step(m); err != nil {
		return nil, fmt.Errorf("etcd refused %s: %v", m.Type, err)
	}
	return nd.drain()
}

// transfer: RawNode.TransferLeader at the leader. etcd answers with MsgTimeoutNow at once if the
// target's log is known to match, else with a MsgApp to catch it up first (and the
// MsgTimeoutNow follows the target's answer).
func (c *cluster) transfer(leader, target *node) ([]pb.Message, error) {
	leader.rn.TransferLeader(target.id)
	return leader.drain()
}

// timeoutNow delivers every MsgTimeoutNow among msgs to its target at once (transitively): it
// is not a raft.tla message, so it never enters the harness's network (docs/conformance.md).
// A crashed target loses it, as a real network would.
func (c *cluster) timeoutNow(msgs []pb.Message) ([]pb.Message, error) {
	var out []pb.Message
	for len(msgs) > 0 {
		m := msgs[0]
		msgs = msgs[1:]
		if m.Type != pb.MsgTimeoutNow {
			out = append(out, m)
			continue
		}
		nd := c.nodes[m.To-1]
		if nd.rn == nil {
			continue
		}
		if err := nd.rn.Step(m); err != nil {
			return nil, fmt.Errorf("etcd refused %s: %v", m.Type, err)
		}
		more, err := nd.drain()
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, more...)
	}
	return out, nil
}

func (c *cluster) crash(nd *node) {
	nd.rn = nil // the store survives: it is what was persisted
}

func (c *cluster) observe(nd *node) jsonObj {
	if nd.rn == nil {
		return jsonObj{"up": false}
	}
	st := nd.rn.BasicStatus()
	role := map[raft.StateType]string{
		raft.StateFollower:     "follower",
		raft.StatePreCandidate: "pre_candidate",
		raft.StateCandidate:    "candidate",
		raft.StateLeader:       "leader",
	}[st.RaftState]
	votes := []string{}
	if st.RaftState == raft.StateCandidate {
		for _, v := range votesGranted(nd.rn) {
			votes = append(votes, nodeName(v))
		}
	}
	return jsonObj{
		"up":            true,
		"role":          role,
		"term":          st.Term,
		"voted_for":     optName(st.Vote),
		"votes_granted": votes,
		"leader":        optName(st.Lead),
	}
}

func optName(id uint64) interface{} {
	if id == raft.None {
		return nil
	}
	return nodeName(id)
}
