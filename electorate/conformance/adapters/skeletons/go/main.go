// A conformance adapter skeleton in Go (standard library only, Go 1.19+): the whole
// electorate-conformance/1 envelope (docs/conformance.md), with the places where your Raft plugs
// in marked "PLUG IN". Copy this file next to your implementation, fill in the type Node, then
//
//	go build -o adapter main.go
//	electorate conform --adapter ./adapter
//
// As shipped, the node is a stub that never campaigns: the suite runs it and reports it as
// failing (a timeout must make the node a candidate), which shows the envelope works.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

const protocol = "electorate-conformance/1"

// PLUG IN: add "crash_restart" once restart rebuilds a node from its durable store, and
// "mutations" if init.mutations plants bugs in your implementation.
var capabilities = []string{"step"}
var observables = []string{"role", "term", "voted_for", "votes_granted", "leader"}

// Message is a canonical message (docs/conformance.md, "Canonical messages"), kept as JSON
// fields so that it goes back to the harness exactly as your implementation filled it.
type Message map[string]any

// Durable is what a node must find again after a crash: saved before any message leaves.
type Durable struct {
	Term     int
	VotedFor *string
}

// Node is one Raft server. PLUG IN: wrap your implementation here. Every handler returns the
// messages the server sends, runs to quiescence and saves its term and vote into Durable first.
// No real timers or clocks: the harness fires timers by calling ElectionTimer and HeartbeatTimer.
type Node struct {
	ID      string
	Peers   []string // every node's id, in cluster order
	Durable *Durable // kept by the adapter across crashes
	LastLog [2]int   // index and term of the last log entry (earlier entries have term 1)
	Seed    int64
}

func (n *Node) ElectionTimer() []Message  { return nil } // PLUG IN: become candidate, request votes
func (n *Node) HeartbeatTimer() []Message { return nil } // PLUG IN: a leader's append_entries
func (n *Node) Receive(m Message) []Message {
	return nil // PLUG IN: hand m to your implementation, return what it sends
}

// Observe reports the node's state. PLUG IN: map your roles to follower / pre_candidate /
// candidate / leader; votes_granted lists the voters a candidate counts, else empty.
func (n *Node) Observe() map[string]any {
	return map[string]any{
		"up": true, "role": "follower", "term": n.Durable.Term, "voted_for": n.Durable.VotedFor,
		"votes_granted": []string{}, "leader": nil,
	}
}

type initial struct {
	Term         int     `json:"term"`
	VotedFor     *string `json:"voted_for"`
	LastLogIndex int     `json:"last_log_index"`
	LastLogTerm  int     `json:"last_log_term"`
}

type command struct {
	Type      string             `json:"type"`
	MsgID     *int               `json:"msg_id"`
	Protocol  string             `json:"protocol"`
	Nodes     []string           `json:"nodes"`
	Seed      int64              `json:"seed"`
	Features  []string           `json:"features"`
	Initial   map[string]initial `json:"initial"`
	Mutations []string           `json:"mutations"`
	Node      string             `json:"node"`
	Timer     string             `json:"timer"`
	Message   Message            `json:"message"`
}

type cmdError struct{ code, text string }

func (e *cmdError) Error() string { return e.text }

func fail(code, format string, args ...any) *cmdError {
	return &cmdError{code, fmt.Sprintf(format, args...)}
}

type cluster struct {
	ids     []string
	seed    int64
	durable map[string]*Durable
	lastLog map[string][2]int
	live    map[string]*Node
}

func (c *cluster) start(id string) {
	c.live[id] = &Node{ID: id, Peers: c.ids, Durable: c.durable[id], LastLog: c.lastLog[id], Seed: c.seed}
}

func (c *cluster) node(id string, mustBeUp bool) (*Node, error) {
	if c.ids == nil {
		return nil, fail("not_initialized", "init first")
	}
	known := false
	for _, x := range c.ids {
		known = known || x == id
	}
	if !known {
		return nil, fail("unknown_node", "unknown node %q", id)
	}
	n := c.live[id]
	if mustBeUp && n == nil {
		return nil, fail("node_down", "%s is crashed", id)
	}
	return n, nil
}

func (c *cluster) state(emitted []Message) map[string]any {
	if emitted == nil {
		emitted = []Message{}
	}
	nodes := map[string]any{}
	for _, id := range c.ids {
		if n := c.live[id]; n != nil {
			nodes[id] = n.Observe()
		} else {
			nodes[id] = map[string]any{"up": false}
		}
	}
	return map[string]any{"emitted": emitted, "nodes": nodes}
}

func (c *cluster) init(cmd *command) (map[string]any, error) {
	if len(cmd.Nodes) == 0 {
		return nil, fail("bad_request", "init needs nodes")
	}
	if len(cmd.Features) > 0 {
		return nil, fail("unsupported", "features %v", cmd.Features)
	}
	if len(cmd.Mutations) > 0 {
		return nil, fail("unsupported", "mutations %v", cmd.Mutations)
	}
	c.ids, c.seed = cmd.Nodes, cmd.Seed
	c.durable, c.lastLog, c.live = map[string]*Durable{}, map[string][2]int{}, map[string]*Node{}
	for _, id := range c.ids {
		in := cmd.Initial[id]
		c.durable[id] = &Durable{Term: in.Term, VotedFor: in.VotedFor}
		c.lastLog[id] = [2]int{in.LastLogIndex, in.LastLogTerm}
		c.start(id)
	}
	return c.state(nil), nil
}

func (c *cluster) handle(cmd *command) (map[string]any, error) {
	switch cmd.Type {
	case "hello":
		if cmd.Protocol != protocol {
			return nil, fail("unsupported", "I speak %s", protocol)
		}
		return map[string]any{"protocol": protocol, "implementation": "skeleton-go",
			"capabilities": capabilities, "observables": observables}, nil
	case "init":
		return c.init(cmd)
	case "fire_timer":
		n, err := c.node(cmd.Node, true)
		if err != nil {
			return nil, err
		}
		switch cmd.Timer {
		case "election":
			return c.state(n.ElectionTimer()), nil
		case "heartbeat":
			return c.state(n.HeartbeatTimer()), nil
		}
		return nil, fail("unsupported", "timer %q", cmd.Timer)
	case "deliver":
		dest, _ := cmd.Message["dest"].(string)
		n, err := c.node(dest, true)
		if err != nil {
			return nil, err
		}
		return c.state(n.Receive(cmd.Message)), nil
	case "crash":
		if _, err := c.node(cmd.Node, true); err != nil {
			return nil, err
		}
		delete(c.live, cmd.Node)
		return c.state(nil), nil
	case "restart":
		n, err := c.node(cmd.Node, false)
		if err != nil {
			return nil, err
		}
		if n != nil {
			return nil, fail("bad_request", "%s is up", cmd.Node)
		}
		c.start(cmd.Node) // rebuilt from the durable store only
		return c.state(nil), nil
	case "observe":
		if c.ids == nil {
			return nil, fail("not_initialized", "init first")
		}
		return c.state(nil), nil
	case "shutdown":
		return map[string]any{}, nil
	}
	return nil, fail("unsupported", "command %q", cmd.Type) // transfer, and anything newer
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := json.NewEncoder(os.Stdout) // one line per reply; os.Stdout is unbuffered
	c := &cluster{}
	replyID := 0
	for in.Scan() {
		if len(in.Bytes()) == 0 {
			continue
		}
		var cmd command
		var body map[string]any
		var err error
		var inReplyTo any
		if jerr := json.Unmarshal(in.Bytes(), &cmd); jerr != nil || cmd.MsgID == nil {
			err = fail("bad_request", "not a command: %v", jerr)
		} else {
			inReplyTo = *cmd.MsgID
			body, err = c.handle(&cmd)
		}
		replyID++
		reply := map[string]any{"msg_id": replyID, "in_reply_to": inReplyTo}
		if e, ok := err.(*cmdError); ok {
			reply["type"], reply["code"], reply["text"] = "error", e.code, e.text
		} else if err != nil {
			reply["type"], reply["code"], reply["text"] = "error", "internal", err.Error()
		} else {
			reply["type"] = cmd.Type + "_ok"
			for k, v := range body {
				reply[k] = v
			}
		}
		if werr := out.Encode(reply); werr != nil {
			fmt.Fprintln(os.Stderr, "adapter: cannot write a reply:", werr)
			os.Exit(1)
		}
		if cmd.Type == "shutdown" && err == nil {
			return
		}
	}
}
