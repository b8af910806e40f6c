package gateway

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"sort"
	"time"
)

// Keeping users alike across nodes. ACL users live on each node, as in
// Redis Cluster, but a cluster is managed as one (ElastiCache applies a
// user group to every node), and a node that was down while a user was
// changed or deleted must not keep the old user. So every local change
// (ACL SETUSER, DELUSER, LOAD) stamps each user it touches, a deletion
// leaving a tombstone, with a stamp newer than any this node has seen
// (its own or merged ones: causality holds whatever the clocks). Nodes
// publish a digest of their stamped users; a node whose digest differs
// from another's fetches that node's user states and merges them user by
// user, the newer stamp winning (node/aclsync.go). Changes to different
// users on different nodes both survive; the same user changed on two
// nodes ends with the newer change everywhere. A node's own users at start
// carry no stamp, so they never override the others'.

// ACLStamp orders changes: At is a Unix ms time that only grows on a
// node, Origin the node that made the change (ties between nodes).
type ACLStamp struct {
	At     uint64
	Origin string
}

// Newer reports whether s comes after o.
func (s ACLStamp) Newer(o ACLStamp) bool {
	if s.At != o.At {
		return s.At > o.At
	}
	return s.Origin > o.Origin
}

// ACLUserState is one user's last change: its ACL LIST line, or its
// deletion.
type ACLUserState struct {
	Name    string
	Line    string // "" when deleted
	Stamp   ACLStamp
	Deleted bool
}

// bumpLocked takes a stamp for a local change (under a.mu) and returns it.
func (a *aclStore) bumpLocked() ACLStamp {
	at := uint64(time.Now().UnixMilli())
	if at <= a.stamp.At {
		at = a.stamp.At + 1
	}
	a.stamp = ACLStamp{At: at, Origin: a.origin}
	return a.stamp
}

// setLocked stamps user name as set (under a.mu).
func (a *aclStore) setLocked(u *aclUser, st ACLStamp) {
	u.stamp = st
	delete(a.deleted, u.name)
}

// tombLocked stamps user name as deleted (under a.mu).
func (a *aclStore) tombLocked(name string, st ACLStamp) {
	if a.deleted == nil {
		a.deleted = map[string]ACLStamp{}
	}
	a.deleted[name] = st
}

// statesLocked returns every stamped user and tombstone, by name; with
// lines false, without the users' ACL LIST lines (the digest needs none).
func (a *aclStore) statesLocked(lines bool) []ACLUserState {
	var out []ACLUserState
	for _, u := range a.users {
		if u.stamp != (ACLStamp{}) {
			st := ACLUserState{Name: u.name, Stamp: u.stamp}
			if lines {
				st.Line = u.line()
			}
			out = append(out, st)
		}
	}
	for name, st := range a.deleted {
		out = append(out, ACLUserState{Name: name, Stamp: st, Deleted: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sumLocked is the digest nodes compare: of every state's name and stamp
// (0 when nothing is stamped). A stamp names one change, so the rules need
// not be hashed (nor depend on how each node prints them).
func (a *aclStore) sumLocked() uint64 {
	states := a.statesLocked(false)
	if len(states) == 0 {
		return 0
	}
	h := fnv.New64a()
	for _, st := range states {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00%t\n", st.Name, st.Stamp.At, st.Stamp.Origin, st.Deleted)
	}
	return h.Sum64() | 1 // never 0: that is "nothing stamped"
}

// SetACLOrigin names this node in the stamps of its ACL changes (the
// backend's node id; the gateway's NodeID until then).
func (s *Server) SetACLOrigin(origin string) {
	s.acl.mu.Lock()
	s.acl.origin = origin
	s.acl.mu.Unlock()
}

// ACLStamp returns the newest stamp this node has made or merged (0, ""
// before any change) and the digest of its user states.
func (s *Server) ACLStamp() (at uint64, origin string, sum uint64) {
	s.acl.mu.Lock()
	defer s.acl.mu.Unlock()
	return s.acl.stamp.At, s.acl.stamp.Origin, s.acl.sumLocked()
}

// ACLStates returns this node's user states (ACLUserState), by name.
func (s *Server) ACLStates() []ACLUserState {
	s.acl.mu.Lock()
	defer s.acl.mu.Unlock()
	return s.acl.statesLocked(true)
}

// MergeACLUsers merges another node's user states into this node's: each
// state newer than this node's for that user is applied (the user set to
// its line, or deleted), others are ignored; it returns how many were
// applied. Users whose rules are unchanged keep their connections; the
// connections of removed users are closed and the subscriptions a user's
// new rules no longer allow are dropped, as ACL DELUSER and SETUSER do.
// The ACL file, if the node has one, is rewritten. A state that does not
// parse fails the whole merge, before anything changes.
func (s *Server) MergeACLUsers(states []ACLUserState) (int, error) {
	rules := make(map[string]*userRules, len(states))
	for _, st := range states {
		if st.Deleted {
			if st.Name == "default" {
				return 0, errors.New("replicated users: the default user cannot be deleted")
			}
			continue
		}
		users, msg := parseUsers(st.Line, "replicated users")
		if msg != "" {
			return 0, errors.New(msg)
		}
		r, ok := users[st.Name]
		if !ok || len(users) != 1 {
			return 0, fmt.Errorf("replicated users: state of %q holds another line", st.Name)
		}
		rules[st.Name] = r.finish()
	}
	a := s.acl
	type change struct {
		u        *aclUser
		old, cur *userRules
	}
	var changed []change
	gone := map[*aclUser]bool{}
	applied := 0
	a.mu.Lock()
	for _, st := range states {
		u := a.users[st.Name]
		var local ACLStamp
		if u != nil {
			local = u.stamp
		} else {
			local = a.deleted[st.Name]
		}
		if !st.Stamp.Newer(local) {
			continue
		}
		applied++
		if st.Stamp.Newer(a.stamp) {
			a.stamp = st.Stamp // later local changes come after it
		}
		switch {
		case st.Deleted:
			if u != nil {
				delete(a.users, st.Name)
				gone[u] = true
			}
			a.tombLocked(st.Name, st.Stamp)
		case u == nil:
			u = newACLUser(st.Name, rules[st.Name])
			a.users[st.Name] = u
			a.setLocked(u, st.Stamp)
		default:
			if old := u.rules.Load(); old.describe() != rules[st.Name].describe() {
				u.rules.Store(rules[st.Name])
				changed = append(changed, change{u, old, rules[st.Name]})
			}
			a.setLocked(u, st.Stamp)
		}
	}
	a.mu.Unlock()
	if applied == 0 {
		return 0, nil
	}
	if len(gone) > 0 {
		s.dropClients(nil, gone)
	}
	for _, ch := range changed {
		s.killRevokedSubscribers(nil, ch.u, ch.old, ch.cur)
	}
	if a.file != "" {
		if saved, err := a.saveIfOurs(); err != nil {
			s.log.Warn("acl: saving replicated users", "file", a.file, "err", err)
		} else if !saved {
			s.log.Info("acl: file changed by someone else since this node read it; replicated users not saved", "file", a.file)
		}
	}
	s.log.Info("acl: merged another node's changes", "applied", applied, "removed", len(gone), "changed", len(changed))
	return applied, nil
}

// saveIfOurs saves the users unless the ACL file changed since this node
// last read or wrote it (another node of a dev process, an operator).
func (a *aclStore) saveIfOurs() (bool, error) {
	raw, err := os.ReadFile(a.file)
	a.mu.Lock()
	ours := err == nil && sha256.Sum256(raw) == a.fileSum
	a.mu.Unlock()
	if !ours {
		return false, nil
	}
	return true, a.save()
}
