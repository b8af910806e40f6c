package gateway

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/raftcache/raftcache/raftfsm"
)

// CONFIG GET/SET over a registry of Redis parameters. Values are kept per
// server and validated like Redis's typed configs; a few have effects here
// (proto-max-bulk-len, client-query-buffer-limit, timeout, maxclients) and
// the node can read the others through Server.ConfigValue.

type paramKind uint8

const (
	pInt         paramKind = iota // integer in [min, max]
	pMem                          // memory value ("1gb") in [min, max], rendered in bytes
	pBool                         // yes/no
	pEnum                         // one of enum
	pString                       // any string
	pSave                         // "save" pairs of integers
	pEvents                       // notify-keyspace-events class characters
	pPercentiles                  // numbers in [0, 100] (latency-tracking-info-percentiles)
)

type param struct {
	name      string
	alias     string
	kind      paramKind
	min, max  int64
	enum      []string
	def       string
	immutable bool
	apply     func(s *Server, v string)
	// tls: the value is the node's TLS identity's (TLSControl, tls.go),
	// not kept here.
	tls bool
}

func memParam(name, alias string, min, max int64, def string) param {
	return param{name: name, alias: alias, kind: pMem, min: min, max: max, def: def}
}

func intParam(name, alias string, min, max int64, def string) param {
	return param{name: name, alias: alias, kind: pInt, min: min, max: max, def: def}
}

// withApply gives p a function run on every change (values read on hot
// paths are kept in atomics this way; New stores the defaults).
func withApply(p param, apply func(s *Server, v string)) param {
	p.apply = apply
	return p
}

const (
	maxInt   = 1<<31 - 1
	minInt   = -1 << 31
	maxLong  = 1<<63 - 1
	maxULong = 1<<63 - 1 // values above int64 are not useful here
)

func configParams(s *Server) []param {
	port, tlsPort := strconv.Itoa(s.cfg.Port), "0"
	switch {
	case s.cfg.TLS != nil && s.cfg.TLSAddr != "":
		tlsPort = strconv.Itoa(s.cfg.TLSPort) // both, on two ports
	case s.cfg.TLS != nil:
		// TLS only, as Redis with port 0 and tls-port P.
		port, tlsPort = "0", port
	}
	bind := "*"
	if host, _, ok := strings.Cut(s.cfg.Addr, ":"); ok && host != "" {
		bind = host
	}
	return []param{
		{name: "maxmemory", kind: pMem, min: 0, max: maxULong, def: "0", apply: updateMemoryLimit},
		{name: "maxmemory-policy", kind: pEnum, def: "noeviction", enum: []string{"volatile-lru", "volatile-lfu",
			"volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"},
			apply: updateMemoryLimit},
		{name: "maxmemory-samples", kind: pInt, min: 1, max: maxInt, def: "5", apply: updateMemoryLimit},
		{name: "proto-max-bulk-len", kind: pMem, min: 1024 * 1024, max: maxLong, def: strconv.Itoa(defaultMaxBulk),
			apply: func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.maxBulk.Store(n) }},
		{name: "client-query-buffer-limit", kind: pMem, min: 1024 * 1024, max: maxLong, def: strconv.Itoa(defaultMaxQuery),
			apply: func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.maxQuery.Store(n) }},
		{name: "timeout", kind: pInt, min: 0, max: maxInt, def: "0",
			apply: func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.idleTimeout.Store(n) }},
		intParam("maxclients", "", 1, maxInt, "10000"),
		{name: "save", kind: pSave, def: ""},
		{name: "appendonly", kind: pBool, def: "no"},
		{name: "appendfsync", kind: pEnum, def: "everysec", enum: []string{"always", "everysec", "no"}},
		{name: "notify-keyspace-events", kind: pEvents, def: "", apply: applyNotifyConfig},
		withApply(intParam("slowlog-log-slower-than", "", -1, maxLong, "10000"),
			func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.slowlogSlower.Store(n) }),
		intParam("slowlog-max-len", "", 0, maxLong, "128"),
		intParam("busy-reply-threshold", "lua-time-limit", 0, maxLong, "5000"),
		intParam("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, maxLong, "512"),
		memParam("hash-max-listpack-value", "hash-max-ziplist-value", 0, maxLong, "64"),
		intParam("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, maxLong, "128"),
		memParam("zset-max-listpack-value", "zset-max-ziplist-value", 0, maxLong, "64"),
		intParam("list-max-listpack-size", "list-max-ziplist-size", minInt, maxInt, "-2"),
		intParam("list-compress-depth", "", 0, maxInt, "0"),
		intParam("set-max-intset-entries", "", 0, maxLong, "512"),
		withApply(intParam("stream-node-max-entries", "", 0, maxLong, "100"), updateEngineParams),
		withApply(memParam("stream-node-max-bytes", "", 0, maxLong, "4096"), updateEngineParams),
		withApply(memParam("hll-sparse-max-bytes", "", 0, maxLong, "3000"), updateEngineParams),
		{name: "databases", kind: pInt, min: 1, max: maxInt, def: "1", immutable: true},
		{name: "cluster-enabled", kind: pBool, def: "yes", immutable: true},
		{name: "port", kind: pInt, min: 0, max: 65535, def: port, immutable: true},
		{name: "tls-port", kind: pInt, min: 0, max: 65535, def: tlsPort, immutable: true},
		{name: "tls-cert-file", kind: pString, tls: true},
		{name: "tls-key-file", kind: pString, tls: true},
		{name: "tls-key-file-pass", kind: pString, tls: true},
		{name: "tls-ca-cert-file", kind: pString, tls: true},
		{name: "tls-ca-cert-dir", kind: pString, tls: true},
		{name: "tls-auth-clients", kind: pEnum, enum: []string{"no", "yes", "optional"}, def: "no", tls: true},
		{name: "tls-protocols", kind: pString, tls: true},
		{name: "tls-ciphers", kind: pString, tls: true},
		{name: "bind", kind: pString, def: bind, immutable: true},
		{name: "dir", kind: pString, def: "", immutable: true},
		intParam("lfu-log-factor", "", 0, maxInt, "10"),
		intParam("lfu-decay-time", "", 0, maxInt, "1"),
		{name: "active-expire-enabled", kind: pBool, def: "yes"},
		{name: "lazyfree-lazy-user-del", kind: pBool, def: "no"},
		{name: "lazyfree-lazy-expire", kind: pBool, def: "no"},
		{name: "lazyfree-lazy-eviction", kind: pBool, def: "no"},
		{name: "cluster-require-full-coverage", kind: pBool, def: "yes"},
		{name: "cluster-allow-reads-when-down", kind: pBool, def: "no"},
		{name: "cluster-node-timeout", kind: pInt, min: 0, max: maxLong, def: "15000"},
		{name: "requirepass", kind: pString, def: "", immutable: true},
		intParam("acllog-max-len", "", 0, maxLong, "128"),
		{name: "tcp-keepalive", kind: pInt, min: 0, max: maxInt, def: "300"},
		{name: "latency-tracking", kind: pBool, def: "yes",
			apply: func(s *Server, v string) { s.latencyTracking.Store(v == "yes") }},
		{name: "latency-tracking-info-percentiles", kind: pPercentiles, def: "50 99 99.9",
			apply: applyPercentiles},
		withApply(intParam("tracking-table-max-keys", "", 0, maxLong, "1000000"),
			func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.trk.maxKeys.Store(n) }),
		withApply(intParam("latency-monitor-threshold", "", 0, maxLong, "0"),
			func(s *Server, v string) { n, _ := strconv.ParseInt(v, 10, 64); s.latencyThreshold.Store(n) }),
		{name: "io-threads", kind: pInt, min: 1, max: 128, def: "1", immutable: true},
		{name: "daemonize", kind: pBool, def: "no", immutable: true},
		{name: "hz", kind: pInt, min: 0, max: maxInt, def: "10"},
	}
}

type configStore struct {
	mu     sync.RWMutex
	byName map[string]*param // names and aliases
	params []*param          // canonical order (sorted by name)
	values map[string]string // canonical name -> value
	srv    *Server
}

func newConfigStore(s *Server) *configStore {
	cs := &configStore{byName: map[string]*param{}, values: map[string]string{}, srv: s}
	for _, p := range configParams(s) {
		p := p
		cs.params = append(cs.params, &p)
		cs.byName[p.name] = &p
		if p.alias != "" {
			cs.byName[p.alias] = &p
		}
		cs.values[p.name] = p.def
	}
	sort.Slice(cs.params, func(i, j int) bool { return cs.params[i].name < cs.params[j].name })
	return cs
}

func (cs *configStore) get(name string) (string, bool) {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	p := cs.byName[strings.ToLower(name)]
	if p == nil {
		return "", false
	}
	return cs.value(p), true
}

// value is p's current value (the caller holds mu).
func (cs *configStore) value(p *param) string {
	if p.tls {
		return cs.srv.tlsValue(p.name)
	}
	return cs.values[p.name]
}

// int returns an integer parameter's value (0 if unset or not numeric).
func (cs *configStore) int(name string) int64 {
	v, _ := cs.get(name)
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// parseMemory parses Redis memory values: digits with an optional unit
// (b, k, kb, m, mb, g, gb; case-insensitive).
func parseMemory(s string) (int64, bool) {
	ls := strings.ToLower(s)
	mul := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1000 * 1000 * 1000}, {"m", 1000 * 1000}, {"k", 1000}, {"b", 1}} {
		if strings.HasSuffix(ls, u.suf) {
			ls = ls[:len(ls)-len(u.suf)]
			mul = u.m
			break
		}
	}
	n, ok := raftfsm.ParseInt([]byte(ls))
	if !ok || n < 0 {
		return 0, false
	}
	if mul > 1 && n > maxLong/mul {
		return 0, false
	}
	return n * mul, true
}

// validate returns the canonical value for v or the Redis error text.
func (p *param) validate(v string) (string, string) {
	switch p.kind {
	case pInt, pMem:
		var n int64
		var ok bool
		if p.kind == pMem {
			n, ok = parseMemory(v)
			if !ok {
				// Redis also accepts plain (possibly negative) integers here.
				n, ok = raftfsm.ParseInt([]byte(v))
			}
			if !ok {
				return "", "argument must be a memory value"
			}
		} else {
			n, ok = raftfsm.ParseInt([]byte(v))
			if !ok {
				return "", "argument couldn't be parsed into an integer"
			}
		}
		if n < p.min || n > p.max {
			return "", "argument must be between " + itoa(p.min) + " and " + itoa(p.max) + " inclusive"
		}
		return itoa(n), ""
	case pBool:
		switch strings.ToLower(v) {
		case "yes":
			return "yes", ""
		case "no":
			return "no", ""
		}
		return "", "argument must be 'yes' or 'no'"
	case pEnum:
		lv := strings.ToLower(v)
		for _, e := range p.enum {
			if lv == e {
				return e, ""
			}
		}
		return "", "argument(s) must be one of the following: " + strings.Join(p.enum, ", ")
	case pSave:
		f := strings.Fields(v)
		if len(f)%2 != 0 {
			return "", "Invalid save parameters"
		}
		for _, x := range f {
			if n, ok := raftfsm.ParseInt([]byte(x)); !ok || n < 0 {
				return "", "Invalid save parameters"
			}
		}
		return strings.Join(f, " "), ""
	case pPercentiles:
		_, text, errText := parsePercentiles(v)
		return text, errText
	case pEvents:
		m, ok := raftfsm.ParseNotifyClasses(v)
		if !ok {
			return "", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
		}
		return m.String(), ""
	}
	return v, ""
}

func configGetCmd(s *Server, c *client, args [][]byte) {
	cs := s.conf
	cs.mu.RLock()
	type kv struct{ k, v string }
	var out []kv
	seen := map[string]bool{}
	for _, a := range args[2:] {
		pat := strings.ToLower(string(a))
		if !strings.ContainsAny(pat, "[*?") {
			p := cs.byName[pat]
			if p != nil && !seen[p.name] {
				seen[p.name] = true
				out = append(out, kv{pat, cs.value(p)})
			}
			continue
		}
		for _, p := range cs.params {
			for _, n := range []string{p.name, p.alias} {
				if n == "" || seen[p.name] {
					continue
				}
				if raftfsm.GlobMatch(pat, n, true) {
					seen[p.name] = true
					out = append(out, kv{n, cs.value(p)})
				}
			}
		}
	}
	cs.mu.RUnlock()
	c.out = appendMapLen(c.out, len(out), c.resp)
	for _, e := range out {
		c.out = appendBulk(c.out, e.k)
		c.out = appendBulk(c.out, e.v)
	}
}

func configSetCmd(s *Server, c *client, args [][]byte) {
	if len(args)%2 != 0 {
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	cs := s.conf
	var sets []configSet
	for i := 2; i < len(args); i += 2 {
		name := string(args[i])
		p := cs.byName[strings.ToLower(name)]
		if p == nil {
			s.replyError(c, nil, "ERR Unknown option or number of arguments for CONFIG SET - '"+name+"'")
			return
		}
		if p.immutable {
			s.replyError(c, nil, "ERR CONFIG SET failed (possibly related to argument '"+name+"') - can't set immutable config")
			return
		}
		for _, prev := range sets {
			if prev.p == p {
				s.replyError(c, nil, "ERR CONFIG SET failed (possibly related to argument '"+name+"') - duplicate parameter")
				return
			}
		}
		v, errText := p.validate(string(args[i+1]))
		if errText != "" {
			s.replyError(c, nil, "ERR CONFIG SET failed (possibly related to argument '"+p.name+"') - "+errText)
			return
		}
		sets = append(sets, configSet{p, v})
	}
	sets, tlsSets := splitTLSSets(sets)
	if len(tlsSets) > 0 {
		// The TLS files may fail to load: applied first, so that a failure
		// leaves every parameter of the command as it was (Redis restores
		// them all).
		if name, errText := s.setTLS(tlsSets); errText != "" {
			s.replyError(c, nil, "ERR CONFIG SET failed (possibly related to argument '"+name+"') - "+errText)
			return
		}
	}
	s.commitConfig(sets)
	c.out = append(c.out, "+OK\r\n"...)
}

// splitTLSSets separates the parameters held by the node's TLS identity.
func splitTLSSets(sets []configSet) (rest, tlsSets []configSet) {
	for _, st := range sets {
		if st.p.tls {
			tlsSets = append(tlsSets, st)
		} else {
			rest = append(rest, st)
		}
	}
	return rest, tlsSets
}

// configSet is one validated parameter value.
type configSet struct {
	p *param
	v string
}

// commitConfig stores validated values together, then applies them.
func (s *Server) commitConfig(sets []configSet) {
	s.conf.mu.Lock()
	for _, st := range sets {
		s.conf.values[st.p.name] = st.v
	}
	s.conf.mu.Unlock()
	for _, st := range sets {
		if st.p.apply != nil {
			st.p.apply(s, st.v)
		}
	}
}

// SetConfig sets a CONFIG parameter as CONFIG SET would (startup flags such
// as --maxmemory).
func (s *Server) SetConfig(name, value string) error {
	p := s.conf.byName[strings.ToLower(name)]
	if p == nil {
		return fmt.Errorf("unknown config parameter %q", name)
	}
	v, errText := p.validate(value)
	if errText != "" {
		return fmt.Errorf("%s: %s", name, errText)
	}
	if p.tls {
		if _, errText := s.setTLS([]configSet{{p, v}}); errText != "" {
			return fmt.Errorf("%s: %s", name, errText)
		}
		return nil
	}
	s.commitConfig([]configSet{{p, v}})
	return nil
}

// memoryLimit is maxmemory, maxmemory-policy and maxmemory-samples, kept
// ready for the node, which reads them on every write that may grow memory.
type memoryLimit struct {
	max     int64
	policy  string
	samples int
}

func updateMemoryLimit(s *Server, _ string) {
	policy, _ := s.conf.get("maxmemory-policy")
	s.memLimit.Store(&memoryLimit{s.conf.int("maxmemory"), policy, int(s.conf.int("maxmemory-samples"))})
}

// MemoryLimit returns maxmemory, maxmemory-policy and maxmemory-samples,
// which the node enforces on the keyspace (eviction). Cheap: no locks.
func (s *Server) MemoryLimit() (maxmemory int64, policy string, samples int) {
	l := s.memLimit.Load()
	return l.max, l.policy, l.samples
}

func configResetStatCmd(s *Server, c *client, args [][]byte) {
	s.stats.reset(s.tab)
	c.out = append(c.out, "+OK\r\n"...)
}

func configRewriteCmd(s *Server, c *client, args [][]byte) {
	s.replyError(c, nil, "ERR The server is running without a config file")
}

func configHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "CONFIG", []string{
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	})
}
