// Command etcd-raft-adapter drives etcd's raft (go.etcd.io/etcd/raft, 3.4) through the
// electorate conformance protocol (electorate-conformance/1, docs/conformance.md): N nodes in
// one process, each an etcd RawNode over its own durable store; newline-delimited JSON
// commands on stdin, exactly one JSON reply per command on stdout. The harness owns the
// network and the clocks: a step never delivers a message itself.
//
// Timers: `election` ticks the node until etcd's own randomized election timer campaigns;
// `heartbeat` steps MsgBeat at a leader (what etcd's heartbeat timer does, with no election
// time passing); `period` is ElectionTick ticks. Crash drops the RawNode; restart rebuilds it
// from the durable store only. PreVote and CheckQuorum follow init.features.
//
// Set ELECTORATE_ETCD_LOG=1 to see etcd's own log on stderr.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	pb "go.etcd.io/etcd/raft/raftpb"
	"go.etcd.io/etcd/version"
)

const protocol = "electorate-conformance/1"

var (
	stderr      io.Writer = os.Stderr
	logToStderr           = os.Getenv("ELECTORATE_ETCD_LOG") != ""
)

type commandError struct{ code, text string }

func (e *commandError) Error() string { return e.text }

func cmdErr(code, text string) error { return &commandError{code, text} }

type request struct {
	Type     string             `json:"type"`
	MsgID    json.RawMessage    `json:"msg_id"`
	Protocol string             `json:"protocol"`
	Nodes    []string           `json:"nodes"`
	Seed     int64              `json:"seed"`
	Features []string           `json:"features"`
	Initial  map[string]initial `json:"initial"`
	Mutate   []string           `json:"mutations"`
	Node     string             `json:"node"`
	Timer    string             `json:"timer"`
	Message  *wireMsg           `json:"message"`
	From     string             `json:"from"`
	To       string             `json:"to"`
}

type server struct {
	c       *cluster
	replyID int
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	out := bufio.NewWriter(os.Stdout)
	s := &server{}
	for {
		line, err := in.ReadBytes('\n')
		if len(line) > 0 && !blank(line) {
			reply, done := s.handle(line)
			b, merr := json.Marshal(reply)
			if merr != nil {
				b, _ = json.Marshal(jsonObj{"type": "error", "in_reply_to": nil,
					"code": "internal", "text": merr.Error()})
			}
			out.Write(append(b, '\n'))
			out.Flush()
			if done {
				return
			}
		}
		if err != nil {
			return // end of input: the harness is gone
		}
	}
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// handle answers one command line; it never lets a panic (an etcd invariant firing) escape.
func (s *server) handle(line []byte) (reply jsonObj, done bool) {
	var req request
	s.replyID++
	if err := json.Unmarshal(line, &req); err != nil {
		return s.errorReply(nil, "bad_request", "a command must be a JSON object: "+err.Error()), false
	}
	var id interface{}
	if len(req.MsgID) > 0 {
		id = req.MsgID
	}
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "etcd-raft adapter: panic in %s: %v\n%s", req.Type, p, debug.Stack())
			reply = s.errorReply(id, "internal", fmt.Sprintf("etcd raft panicked in %s: %v", req.Type, p))
		}
	}()
	body, err := s.dispatch(&req)
	if err != nil {
		if ce, ok := err.(*commandError); ok {
			return s.errorReply(id, ce.code, ce.text), false
		}
		return s.errorReply(id, "internal", err.Error()), false
	}
	body["type"] = req.Type + "_ok"
	body["msg_id"] = s.replyID
	body["in_reply_to"] = id
	return body, req.Type == "shutdown"
}

func (s *server) errorReply(id interface{}, code, text string) jsonObj {
	return jsonObj{"type": "error", "msg_id": s.replyID, "in_reply_to": id, "code": code, "text": text}
}

func (s *server) dispatch(req *request) (jsonObj, error) {
	switch req.Type {
	case "hello":
		return s.hello(req)
	case "shutdown":
		return jsonObj{}, nil
	case "init":
		return s.init(req)
	case "fire_timer", "deliver", "crash", "restart", "transfer", "observe":
		if s.c == nil {
			return nil, cmdErr("not_initialized", req.Type+" before init")
		}
		return s.step(req)
	}
	return nil, cmdErr("unsupported", fmt.Sprintf("unknown command %q", req.Type))
}

func (s *server) hello(req *request) (jsonObj, error) {
	if req.Protocol != protocol {
		return nil, cmdErr("unsupported", fmt.Sprintf("protocol %q; I speak %s", req.Protocol, protocol))
	}
	return jsonObj{
		"protocol":       protocol,
		"implementation": "etcd raft " + version.Version + " (go.etcd.io/etcd/raft RawNode)",
		"capabilities":   []string{"step", "crash_restart", "transfer", "prevote", "check_quorum"},
		// etcd's choices among the suite's options (docs/conformance.md, "Options"): a
		// (pre-)candidate refused by a quorum becomes a follower at once (stepCandidate,
		// VoteLost); MsgHeartbeat carries no log position and progress only grows
		// (Progress.MaybeUpdate); with PreVote or CheckQuorum a stale MsgApp or MsgHeartbeat
		// is answered by a MsgAppResp without Reject; Step's canVote: a follower that knows
		// its term's leader refuses a same-term (pre-)vote, and grants a pre-vote to the
		// candidate it voted for; a pre-vote grant of the current term is polled
		// (stepCandidate); inside a lease only (pre-)vote requests are ignored (Step's
		// inLease), a newer term in any other message is adopted. No restart guard: a
		// started node knows no leader.
		"options": []string{
			"abandon_lost_election", "bare_heartbeats", "monotone_progress",
			"stale_append_success", "vote_refused_with_known_leader",
			"prevote_refused_with_known_leader", "prevote_granted_to_voted_candidate",
			"stale_prevote_grant_counted", "newer_term_adopted_in_lease",
		},
		"observables": []string{"role", "term", "voted_for", "votes_granted", "leader"},
	}, nil
}

func (s *server) init(req *request) (jsonObj, error) {
	if len(req.Mutate) > 0 {
		return nil, cmdErr("unsupported", "etcd-raft plants no mutations")
	}
	if len(req.Nodes) == 0 {
		return nil, cmdErr("bad_request", "init needs at least one node")
	}
	var preVote, checkQuorum bool
	for _, f := range req.Features {
		switch f {
		case "prevote":
			preVote = true
		case "check_quorum":
			checkQuorum = true
		default:
			return nil, cmdErr("unsupported", fmt.Sprintf("unknown feature %q", f))
		}
	}
	seedElectionTimeouts(req.Seed)
	c, err := newCluster(req.Nodes, req.Initial, preVote, checkQuorum)
	if err != nil {
		return nil, cmdErr("bad_request", err.Error())
	}
	s.c = c
	return s.answer(nil)
}

func (s *server) step(req *request) (jsonObj, error) {
	c := s.c
	switch req.Type {
	case "observe":
		return s.answer(nil)
	case "crash":
		nd, err := c.up(req.Node)
		if err != nil {
			return nil, err
		}
		c.crash(nd)
		return s.answer(nil)
	case "restart":
		nd, err := c.node(req.Node)
		if err != nil {
			return nil, err
		}
		if nd.rn != nil {
			return nil, cmdErr("bad_request", fmt.Sprintf("node %s is up: crash it first", req.Node))
		}
		if err := c.start(nd); err != nil {
			return nil, err
		}
		return s.settle(nd.drain())
	case "fire_timer":
		nd, err := c.up(req.Node)
		if err != nil {
			return nil, err
		}
		switch req.Timer {
		case "election":
			return s.settle(c.election(nd))
		case "heartbeat":
			return s.settle(c.heartbeat(nd))
		case "period":
			return s.settle(c.period(nd))
		}
		return nil, cmdErr("bad_request", fmt.Sprintf("unknown timer %q", req.Timer))
	case "deliver":
		if req.Message == nil {
			return nil, cmdErr("bad_request", "deliver needs a message")
		}
		m, err := decode(*req.Message, len(c.nodes))
		if err != nil {
			return nil, cmdErr("bad_request", err.Error())
		}
		return s.settle(c.deliver(m))
	case "transfer":
		leader, err := c.up(req.From)
		if err != nil {
			return nil, err
		}
		target, err := c.up(req.To)
		if err != nil {
			return nil, err
		}
		return s.settle(c.transfer(leader, target))
	}
	return nil, cmdErr("unsupported", req.Type)
}

// settle finishes a step: leadership-transfer messages are delivered inside it, the rest are
// encoded, and every node is observed.
func (s *server) settle(msgs []pb.Message, err error) (jsonObj, error) {
	if err != nil {
		return nil, err
	}
	msgs, err = s.c.timeoutNow(msgs)
	if err != nil {
		return nil, err
	}
	return s.answer(msgs)
}

func (s *server) answer(msgs []pb.Message) (jsonObj, error) {
	emitted := make([]jsonObj, 0, len(msgs))
	for _, m := range msgs {
		e, err := encode(m)
		if err != nil {
			return nil, err
		}
		emitted = append(emitted, e)
	}
	nodes := jsonObj{}
	for _, nd := range s.c.nodes {
		nodes[nodeName(nd.id)] = s.c.observe(nd)
	}
	return jsonObj{"emitted": emitted, "nodes": nodes}, nil
}
