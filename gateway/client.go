package gateway

import (
	"strings"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// CLIENT subcommands.

func clientIDCmd(s *Server, c *client, args [][]byte) { c.out = appendInt(c.out, c.id) }

func clientSetNameCmd(s *Server, c *client, args [][]byte) {
	if !validClientName(args[2]) {
		s.replyError(c, nil, errClientName)
		return
	}
	c.setName(string(args[2]))
	c.out = append(c.out, "+OK\r\n"...)
}

func clientGetNameCmd(s *Server, c *client, args [][]byte) {
	if c.name == "" {
		c.out = appendNull(c.out, c.resp)
		return
	}
	c.out = appendBulk(c.out, c.name)
}

func clientListCmd(s *Server, c *client, args [][]byte) {
	c.lastCmd.Store(c.cur)
	now := time.Now()
	var list []*client
	switch {
	case len(args) == 2:
		list = s.clientList()
	case len(args) == 4 && raftfsm.EqFold(args[2], "type"):
		switch {
		case raftfsm.EqFold(args[3], "normal"):
			list = s.clientList()
		case raftfsm.EqFold(args[3], "master"), raftfsm.EqFold(args[3], "replica"),
			raftfsm.EqFold(args[3], "slave"), raftfsm.EqFold(args[3], "pubsub"):
			// No replication links or subscribers are RESP clients here.
		default:
			s.replyError(c, nil, "ERR Unknown client type '"+string(args[3])+"'")
			return
		}
	case len(args) > 3 && raftfsm.EqFold(args[2], "id"):
		for _, a := range args[3:] {
			id, ok := raftfsm.ParseInt(a)
			if !ok {
				s.replyError(c, nil, "ERR Invalid client ID")
				return
			}
			s.mu.Lock()
			cl := s.clients[id]
			s.mu.Unlock()
			if cl != nil {
				list = append(list, cl)
			}
		}
	default:
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	var b strings.Builder
	for _, cl := range list {
		b.WriteString(cl.info(now))
		b.WriteByte('\n')
	}
	c.out = appendVerbatim(c.out, b.String(), c.resp)
}

func clientInfoCmd(s *Server, c *client, args [][]byte) {
	c.lastCmd.Store(c.cur)
	c.out = appendVerbatim(c.out, c.info(time.Now())+"\n", c.resp)
}

func clientKillCmd(s *Server, c *client, args [][]byte) {
	var addr, laddr string
	var id int64
	hasAddr, hasLaddr := false, false
	var user *aclUser
	skipme := true
	typeNormal, typeNone := false, false
	if len(args) == 3 {
		// Old form: CLIENT KILL addr; it may kill the caller.
		addr, hasAddr = string(args[2]), true
		skipme = false
	} else {
		for i := 2; i < len(args); i += 2 {
			if i+1 >= len(args) {
				s.replyError(c, nil, "ERR syntax error")
				return
			}
			opt, val := args[i], args[i+1]
			switch {
			case raftfsm.EqFold(opt, "id"):
				n, ok := raftfsm.ParseInt(val)
				if !ok || n <= 0 {
					s.replyError(c, nil, "ERR client-id should be greater than 0")
					return
				}
				id = n
			case raftfsm.EqFold(opt, "type"):
				switch {
				case raftfsm.EqFold(val, "normal"):
					typeNormal = true
				case raftfsm.EqFold(val, "master"), raftfsm.EqFold(val, "replica"),
					raftfsm.EqFold(val, "slave"), raftfsm.EqFold(val, "pubsub"):
					typeNone = true
				default:
					s.replyError(c, nil, "ERR Unknown client type '"+string(val)+"'")
					return
				}
			case raftfsm.EqFold(opt, "addr"):
				addr, hasAddr = string(val), true
			case raftfsm.EqFold(opt, "laddr"):
				laddr, hasLaddr = string(val), true
			case raftfsm.EqFold(opt, "user"):
				if user = s.acl.user(string(val)); user == nil {
					s.replyError(c, nil, "ERR No such user '"+string(val)+"'")
					return
				}
			case raftfsm.EqFold(opt, "skipme"):
				switch {
				case raftfsm.EqFold(val, "yes"):
					skipme = true
				case raftfsm.EqFold(val, "no"):
					skipme = false
				default:
					s.replyError(c, nil, "ERR syntax error")
					return
				}
			default:
				s.replyError(c, nil, "ERR syntax error")
				return
			}
		}
	}
	_ = typeNormal
	killed := 0
	if !typeNone {
		for _, cl := range s.clientList() {
			if hasAddr && cl.addr != addr {
				continue
			}
			if hasLaddr && cl.laddr != laddr {
				continue
			}
			if id != 0 && cl.id != id {
				continue
			}
			if user != nil && cl.getUser() != user {
				continue
			}
			if cl == c && skipme {
				continue
			}
			killed++
			c.kill(cl)
		}
	}
	if len(args) == 3 {
		if killed == 0 {
			s.replyError(c, nil, "ERR No such client")
			return
		}
		c.out = append(c.out, "+OK\r\n"...)
		return
	}
	c.out = appendInt(c.out, int64(killed))
}

// clientSetInfoCmd accepts CLIENT SETINFO (Redis 7.2; sent by go-redis and
// redis-py on connect).
func clientSetInfoCmd(s *Server, c *client, args [][]byte) {
	v := string(args[3])
	for _, ch := range args[3] {
		if ch < '!' || ch > '~' {
			s.replyError(c, nil, "ERR "+string(args[2])+" cannot contain spaces, newlines or special characters.")
			return
		}
	}
	switch {
	case raftfsm.EqFold(args[2], "lib-name"):
		c.mu.Lock()
		c.libName = v
		c.mu.Unlock()
	case raftfsm.EqFold(args[2], "lib-ver"):
		c.mu.Lock()
		c.libVer = v
		c.mu.Unlock()
	default:
		s.replyError(c, nil, "ERR Unrecognized option '"+string(args[2])+"'")
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

// clientNoEvictCmd records NO-EVICT: client eviction does not exist here, so
// every client is already protected from it.
func clientNoEvictCmd(s *Server, c *client, args [][]byte) {
	switch {
	case raftfsm.EqFold(args[2], "on"):
		c.mu.Lock()
		c.noEvict = true
		c.mu.Unlock()
	case raftfsm.EqFold(args[2], "off"):
		c.mu.Lock()
		c.noEvict = false
		c.mu.Unlock()
	default:
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

// clientNoTouchCmd accepts NO-TOUCH (Redis 7.2): reads never update access
// times here, so the flag holds by construction.
func clientNoTouchCmd(s *Server, c *client, args [][]byte) {
	if !raftfsm.EqFold(args[2], "on") && !raftfsm.EqFold(args[2], "off") {
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

func clientReplyCmd(s *Server, c *client, args [][]byte) {
	switch {
	case raftfsm.EqFold(args[2], "on"):
		c.reply = replyOn
		c.out = append(c.out, "+OK\r\n"...)
	case raftfsm.EqFold(args[2], "off"):
		c.reply = replyOff
	case raftfsm.EqFold(args[2], "skip"):
		if c.reply != replyOff {
			c.reply = replySkipNext
		}
	default:
		s.replyError(c, nil, "ERR syntax error")
	}
}

func clientHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "CLIENT", []string{
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
	})
}

// kill disconnects cl on behalf of c (CLIENT KILL, ACL changes): c itself
// is closed once its reply is written.
func (c *client) kill(cl *client) {
	if cl == c {
		c.closeAfter = true
		return
	}
	cl.killed.Store(true)
	if cl.raw != nil {
		_ = cl.raw.Close()
	}
}
