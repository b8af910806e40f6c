package gateway

import (
	"strconv"
	"strings"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// Connection-level commands: PING ECHO SELECT QUIT RESET HELLO AUTH TIME
// READONLY READWRITE ASKING.

func pingCmd(s *Server, c *client, args [][]byte) {
	if pubsubPing(c, args) {
		return
	}
	switch len(args) {
	case 1:
		c.out = append(c.out, "+PONG\r\n"...)
	case 2:
		c.out = appendBulkBytes(c.out, args[1])
	default:
		s.replyError(c, nil, "ERR wrong number of arguments for 'ping' command")
	}
}

func echoCmd(s *Server, c *client, args [][]byte) { c.out = appendBulkBytes(c.out, args[1]) }

func selectCmd(s *Server, c *client, args [][]byte) {
	id, ok := raftfsm.ParseInt(args[1])
	if !ok || id < -1<<31 || id > 1<<31-1 {
		s.replyError(c, nil, "ERR value is not an integer or out of range")
		return
	}
	if id != 0 {
		// The server runs in cluster mode, where Redis allows only db 0.
		s.replyError(c, nil, "ERR SELECT is not allowed in cluster mode")
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

func quitCmd(s *Server, c *client, args [][]byte) {
	c.out = append(c.out, "+OK\r\n"...)
	c.closeAfter = true
}

func resetCmd(s *Server, c *client, args [][]byte) {
	s.monitorStop(c)
	s.trackingClosed(c)
	s.pubsubReset(c)
	c.reset()
	c.setDefaultAuth() // RESET forgets AUTH, as in Redis
	c.out = append(c.out, "+RESET\r\n"...)
}

// validClientName reports whether a connection name is acceptable (CLIENT
// LIST must stay splittable on spaces).
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

const errClientName = "ERR Client names cannot contain spaces, newlines or special characters."

// authenticate checks a user/password pair (acl.go).
func (s *Server) authenticate(user, pass []byte) bool { return s.acl.credentials(user, pass) != nil }

func helloCmd(s *Server, c *client, args [][]byte) {
	ver := int64(0)
	next := 1
	if len(args) >= 2 {
		v, ok := raftfsm.ParseInt(args[1])
		if !ok {
			s.replyError(c, nil, "ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			s.replyError(c, nil, "NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	var name []byte
	setName := false
	var authUser, authPass []byte
	for j := next; j < len(args); j++ {
		more := len(args) - 1 - j
		switch {
		case raftfsm.EqFold(args[j], "auth") && more >= 2:
			authUser, authPass = args[j+1], args[j+2]
			j += 2
		case raftfsm.EqFold(args[j], "setname") && more >= 1:
			if !validClientName(args[j+1]) {
				s.replyError(c, nil, errClientName)
				return
			}
			name, setName = args[j+1], true
			j++
		default:
			s.replyError(c, nil, "ERR Syntax error in HELLO option '"+string(args[j])+"'")
			return
		}
	}
	if authUser != nil && !s.login(c, authUser, authPass, args[0]) {
		s.replyError(c, nil, "WRONGPASS invalid username-password pair or user is disabled.")
		return
	}
	if !c.authed && s.acl.authRequired() {
		s.replyError(c, nil, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if setName {
		c.setName(string(name))
	}
	if ver != 0 {
		c.setResp(int(ver))
	}
	role := "master"
	if !s.backend.IsLeader() {
		role = "replica"
	}
	b := appendMapLen(c.out, 7, c.resp)
	b = appendBulk(b, "server")
	b = appendBulk(b, "redis")
	b = appendBulk(b, "version")
	b = appendBulk(b, redisVersion)
	b = appendBulk(b, "proto")
	b = appendInt(b, int64(c.resp))
	b = appendBulk(b, "id")
	b = appendInt(b, c.id)
	b = appendBulk(b, "mode")
	b = appendBulk(b, "cluster")
	b = appendBulk(b, "role")
	b = appendBulk(b, role)
	b = appendBulk(b, "modules")
	b = appendArrayLen(b, 0)
	c.out = b
}

func authCmd(s *Server, c *client, args [][]byte) {
	var user, pass []byte
	switch len(args) {
	case 2:
		if s.acl.def.rules.Load().nopass {
			s.replyError(c, nil, "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
		user, pass = []byte("default"), args[1]
	case 3:
		user, pass = args[1], args[2]
	default:
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	if !s.login(c, user, pass, args[0]) {
		s.replyError(c, nil, "WRONGPASS invalid username-password pair or user is disabled.")
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

func timeCmd(s *Server, c *client, args [][]byte) {
	now := time.Now()
	c.out = appendArrayLen(c.out, 2)
	c.out = appendBulk(c.out, strconv.FormatInt(now.Unix(), 10))
	c.out = appendBulk(c.out, strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

func readonlyCmd(s *Server, c *client, args [][]byte) {
	c.setReadonly(true)
	c.out = append(c.out, "+OK\r\n"...)
}

func readwriteCmd(s *Server, c *client, args [][]byte) {
	c.setReadonly(false)
	c.out = append(c.out, "+OK\r\n"...)
}

// askingCmd sets the one-shot ASKING flag (cleared after the next command,
// or kept for a whole MULTI). Routing during slot import is the backend's.
func askingCmd(s *Server, c *client, args [][]byte) {
	c.asking = true
	c.out = append(c.out, "+OK\r\n"...)
}

// helpReply renders a HELP reply: a header line then the given lines as
// status replies, as addReplyHelp does.
func helpReply(c *client, cmd string, lines []string) {
	c.out = appendArrayLen(c.out, len(lines)+3)
	c.out = appendStatus(c.out, strings.ToUpper(cmd)+" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.out = appendStatus(c.out, l)
	}
	c.out = appendStatus(c.out, "HELP")
	c.out = appendStatus(c.out, "    Print this help.")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const redisVersion = "7.0.15"
