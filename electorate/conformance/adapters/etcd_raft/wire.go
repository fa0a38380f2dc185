package main

// The canonical form of etcd's messages (docs/conformance.md, "Canonical messages").
//
// Fields are copied, never invented: an etcd message's Index, LogTerm, Entries and Commit become
// the canonical fields of the same meaning. What the canonical form has no field for goes into
// the adapter-private `ext` object and comes back on delivery:
//
//   - ext.etcd: the etcd message type. MsgHeartbeat and MsgApp are both append_entries, and
//     MsgHeartbeatResp and MsgAppResp both append_entries_res; etcd handles them differently.
//     A heartbeat carries no log position: its Index and LogTerm are 0, copied as they are.
//   - ext.reject_index, ext.reject_hint: a refused MsgApp's Index (the refused position) and
//     RejectHint (the follower's last index). The canonical refusal has match_index 0, as
//     raft.tla's has.
//   - ext.context: a message's Context ("CampaignTransfer" on a leadership transfer's votes).
//
// Entry values: an entry's Data holds its canonical value in decimal; etcd's own empty entry
// (a new leader's, Data nil) has value 0.

import (
	"fmt"
	"strconv"
	"strings"

	pb "go.etcd.io/etcd/raft/raftpb"
)

type jsonObj = map[string]interface{}

func nodeName(id uint64) string { return "n" + strconv.FormatUint(id, 10) }

// nodeID parses "nK" for 1 <= K <= n.
func nodeID(name string, n int) (uint64, error) {
	if strings.HasPrefix(name, "n") {
		if k, err := strconv.ParseUint(name[1:], 10, 64); err == nil && k >= 1 && k <= uint64(n) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown node %q (expected n1..n%d)", name, n)
}

func entryValue(e pb.Entry) (uint64, error) {
	if len(e.Data) == 0 {
		return 0, nil
	}
	return strconv.ParseUint(string(e.Data), 10, 64)
}

func entryData(v uint64) []byte {
	if v == 0 {
		return nil
	}
	return []byte(strconv.FormatUint(v, 10))
}

// encode gives the canonical form of an outgoing etcd message.
func encode(m pb.Message) (jsonObj, error) {
	out := jsonObj{"src": nodeName(m.From), "dest": nodeName(m.To), "term": m.Term}
	ext := jsonObj{"etcd": m.Type.String()}
	if len(m.Context) > 0 {
		ext["context"] = string(m.Context)
	}
	switch m.Type {
	case pb.MsgVote, pb.MsgPreVote:
		out["type"] = "request_vote"
		out["candidate_id"] = nodeName(m.From)
		out["last_log_index"] = m.Index
		out["last_log_term"] = m.LogTerm
		out["pre_vote"] = m.Type == pb.MsgPreVote
	case pb.MsgVoteResp, pb.MsgPreVoteResp:
		out["type"] = "request_vote_res"
		out["vote_granted"] = !m.Reject
		out["pre_vote"] = m.Type == pb.MsgPreVoteResp
	case pb.MsgApp, pb.MsgHeartbeat:
		entries := make([]jsonObj, 0, len(m.Entries))
		for _, e := range m.Entries {
			if e.Type != pb.EntryNormal {
				return nil, fmt.Errorf("%s carries a %s entry, which has no canonical form", m.Type, e.Type)
			}
			v, err := entryValue(e)
			if err != nil {
				return nil, fmt.Errorf("%s carries entry data %q that is not a value", m.Type, e.Data)
			}
			entries = append(entries, jsonObj{"term": e.Term, "value": v})
		}
		out["type"] = "append_entries"
		out["leader_id"] = nodeName(m.From)
		out["prev_log_index"] = m.Index
		out["prev_log_term"] = m.LogTerm
		out["entries"] = entries
		out["leader_commit"] = m.Commit
	case pb.MsgAppResp, pb.MsgHeartbeatResp:
		out["type"] = "append_entries_res"
		out["success"] = !m.Reject
		if m.Reject {
			out["match_index"] = uint64(0)
			ext["reject_index"] = m.Index
			ext["reject_hint"] = m.RejectHint
		} else {
			out["match_index"] = m.Index
		}
	default:
		return nil, fmt.Errorf("etcd sent %s, which has no canonical form", m.Type)
	}
	out["ext"] = ext
	return out, nil
}

// wireMsg is a canonical message as the harness delivers it.
type wireMsg struct {
	Type         string      `json:"type"`
	Src          string      `json:"src"`
	Dest         string      `json:"dest"`
	Term         *uint64     `json:"term"`
	LastLogIndex uint64      `json:"last_log_index"`
	LastLogTerm  uint64      `json:"last_log_term"`
	PreVote      bool        `json:"pre_vote"`
	VoteGranted  *bool       `json:"vote_granted"`
	PrevLogIndex uint64      `json:"prev_log_index"`
	PrevLogTerm  uint64      `json:"prev_log_term"`
	Entries      []wireEntry `json:"entries"`
	LeaderCommit uint64      `json:"leader_commit"`
	Success      *bool       `json:"success"`
	MatchIndex   uint64      `json:"match_index"`
	Ext          wireExt     `json:"ext"`
}

type wireEntry struct {
	Term  uint64 `json:"term"`
	Value uint64 `json:"value"`
}

type wireExt struct {
	Etcd        string `json:"etcd"`
	Context     string `json:"context"`
	RejectIndex uint64 `json:"reject_index"`
	RejectHint  uint64 `json:"reject_hint"`
}

// decode rebuilds the etcd message from its canonical form. Without ext (a hand-written
// script), append_entries is a MsgApp and append_entries_res a MsgAppResp.
func decode(w wireMsg, n int) (pb.Message, error) {
	var m pb.Message
	from, err := nodeID(w.Src, n)
	if err != nil {
		return m, err
	}
	to, err := nodeID(w.Dest, n)
	if err != nil {
		return m, err
	}
	if w.Term == nil {
		return m, fmt.Errorf("%s: field 'term' is missing", w.Type)
	}
	m = pb.Message{From: from, To: to, Term: *w.Term}
	if w.Ext.Context != "" {
		m.Context = []byte(w.Ext.Context)
	}
	switch w.Type {
	case "request_vote":
		m.Type = pb.MsgVote
		if w.PreVote {
			m.Type = pb.MsgPreVote
		}
		m.Index, m.LogTerm = w.LastLogIndex, w.LastLogTerm
	case "request_vote_res":
		if w.VoteGranted == nil {
			return m, fmt.Errorf("request_vote_res: field 'vote_granted' is missing")
		}
		m.Type = pb.MsgVoteResp
		if w.PreVote {
			m.Type = pb.MsgPreVoteResp
		}
		m.Reject = !*w.VoteGranted
	case "append_entries":
		m.Type = pb.MsgApp
		if w.Ext.Etcd == pb.MsgHeartbeat.String() {
			m.Type = pb.MsgHeartbeat
		}
		m.Index, m.LogTerm, m.Commit = w.PrevLogIndex, w.PrevLogTerm, w.LeaderCommit
		for k, e := range w.Entries {
			idx := w.PrevLogIndex + 1 + uint64(k)
			m.Entries = append(m.Entries, pb.Entry{Term: e.Term, Index: idx, Data: entryData(e.Value)})
		}
	case "append_entries_res":
		if w.Success == nil {
			return m, fmt.Errorf("append_entries_res: field 'success' is missing")
		}
		m.Type = pb.MsgAppResp
		if w.Ext.Etcd == pb.MsgHeartbeatResp.String() {
			m.Type = pb.MsgHeartbeatResp
		}
		m.Reject = !*w.Success
		m.Index = w.MatchIndex
		if m.Reject {
			m.Index, m.RejectHint = w.Ext.RejectIndex, w.Ext.RejectHint
		}
	default:
		return m, fmt.Errorf("unknown message type %q", w.Type)
	}
	return m, nil
}
