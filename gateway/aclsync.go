package gateway

import (
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"time"
)

// Keeping users alike across nodes. ACL users live on each node, as in
// Redis Cluster, but a cluster is managed as one (ElastiCache applies a
// user group to every node), and a node that was down while a user was
// changed or deleted must not keep the old user. So every local change
// (ACL SETUSER, DELUSER, LOAD) takes a stamp newer than any this node has
// seen; the node publishes its stamp, and a node that sees a newer one on
// another node takes that node's users as a whole (node/aclsync.go). The
// newest change wins; a node's own users at start carry no stamp, so they
// never override the others'.

// ACLStamp orders users states: At is a Unix ms time that only grows on a
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

// bumpLocked stamps a local change (under a.mu).
func (a *aclStore) bumpLocked() {
	at := uint64(time.Now().UnixMilli())
	if at <= a.stamp.At {
		at = a.stamp.At + 1
	}
	a.stamp = ACLStamp{At: at, Origin: a.origin}
}

// SetACLOrigin names this node in the stamps of its ACL changes (the
// backend's node id; the gateway's NodeID until then).
func (s *Server) SetACLOrigin(origin string) {
	s.acl.mu.Lock()
	s.acl.origin = origin
	s.acl.mu.Unlock()
}

// ACLStamp returns the stamp of this node's users (0, "" before any
// change).
func (s *Server) ACLStamp() (at uint64, origin string) {
	s.acl.mu.Lock()
	defer s.acl.mu.Unlock()
	return s.acl.stamp.At, s.acl.stamp.Origin
}

// ACLUsers returns this node's users as ACL LIST lines (name order) with
// their stamp, as one consistent state.
func (s *Server) ACLUsers() (lines []string, at uint64, origin string) {
	s.acl.mu.Lock()
	defer s.acl.mu.Unlock()
	lines = make([]string, 0, len(s.acl.users))
	for _, u := range s.acl.sortedUsersLocked() {
		lines = append(lines, u.line())
	}
	return lines, s.acl.stamp.At, s.acl.stamp.Origin
}

// ReplaceACLUsers installs users (ACL LIST lines) taken from another node
// with their stamp, if that stamp is newer than this node's; it reports
// whether it did. Users whose rules are unchanged keep their connections;
// the connections of removed users are closed and the subscriptions a
// user's new rules no longer allow are dropped, as ACL DELUSER and SETUSER
// do. The ACL file, if the node has one, is rewritten.
func (s *Server) ReplaceACLUsers(lines []string, at uint64, origin string) (bool, error) {
	stamp := ACLStamp{At: at, Origin: origin}
	users, msg := parseUsers(strings.Join(lines, "\n"), "replicated users")
	if msg != "" {
		return false, errors.New(msg)
	}
	a := s.acl
	type change struct {
		u        *aclUser
		old, cur *userRules
	}
	var changed []change
	gone := map[*aclUser]bool{}
	a.mu.Lock()
	if !stamp.Newer(a.stamp) {
		a.mu.Unlock()
		return false, nil
	}
	next := map[string]*aclUser{"default": a.def}
	for name, r := range users {
		cur := r.finish()
		u := a.users[name]
		if name == "default" {
			u = a.def
		}
		if u == nil {
			next[name] = newACLUser(name, cur)
			continue
		}
		next[name] = u
		if old := u.rules.Load(); old.describe() != cur.describe() {
			u.rules.Store(cur)
			changed = append(changed, change{u, old, cur})
		}
	}
	if _, ok := users["default"]; !ok {
		if old := a.def.rules.Load(); old.describe() != a.initDef.describe() {
			a.def.rules.Store(a.initDef)
			changed = append(changed, change{a.def, old, a.initDef})
		}
	}
	for name, u := range a.users {
		if next[name] == nil {
			gone[u] = true
		}
	}
	a.users = next
	a.stamp = stamp
	a.mu.Unlock()

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
	s.log.Info("acl: took the users of a newer change", "origin", stamp.Origin, "stamp", stamp.At, "users", len(next), "removed", len(gone), "changed", len(changed))
	return true, nil
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
