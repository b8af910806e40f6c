package gateway

import (
	"strings"
	"sync"

	"github.com/raftcache/raftcache/raftfsm"
)

// Scripts: EVAL and EVAL_RO are engine commands (raftfsm/scripting.go);
// this node keeps the script cache that EVALSHA and SCRIPT use. The cache
// is this node's own, as in Redis Cluster where each node has its own:
// EVALSHA is turned into EVAL with the script's text before it is routed
// or queued, so the log (and every replica) only ever sees EVAL. A node
// that does not know a digest answers NOSCRIPT, and clients fall back to
// EVAL (go-redis Script.Run, redis-py Script do).

// scriptCacheMax bounds the scripts cached by EVAL (SCRIPT LOAD always
// caches): a client that builds a new script text per call must not grow a
// node's memory without bound.
const scriptCacheMax = 10_000

type scriptCache struct {
	mu     sync.Mutex
	m      map[string]cachedScript
	evaled int // entries added by EVAL
}

type cachedScript struct {
	body   []byte
	loaded bool // SCRIPT LOAD (kept when the cache is full)
}

func (sc *scriptCache) get(sha []byte) ([]byte, bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	e, ok := sc.m[strings.ToLower(string(sha))]
	return e.body, ok
}

// add caches body under its digest and returns the digest.
func (sc *scriptCache) add(body []byte, loaded bool) string {
	sha := raftfsm.ScriptSHA(body)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.m == nil {
		sc.m = make(map[string]cachedScript)
	}
	e, ok := sc.m[sha]
	switch {
	case ok && (e.loaded || !loaded):
		return sha
	case ok:
		sc.evaled--
	case !loaded && sc.evaled >= scriptCacheMax:
		return sha
	}
	if !loaded {
		sc.evaled++
	}
	sc.m[sha] = cachedScript{body: append([]byte(nil), body...), loaded: loaded}
	return sha
}

func (sc *scriptCache) flush() {
	sc.mu.Lock()
	sc.m, sc.evaled = nil, 0
	sc.mu.Unlock()
}

func (sc *scriptCache) len() int {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	return len(sc.m)
}

func scriptCommands() []*command {
	return []*command{
		{name: "evalsha", arity: -3, flags: raftfsm.FlagWrite, keys: raftfsm.EvalKeys, rewrite: evalshaRewrite(evalOf["evalsha"])},
		{name: "evalsha_ro", arity: -3, flags: raftfsm.FlagReadOnly, keys: raftfsm.EvalKeys, rewrite: evalshaRewrite(evalOf["evalsha_ro"])},
		{name: "script", arity: -2, subs: map[string]*command{
			"load":   {arity: 3, handler: scriptLoadCmd},
			"exists": {arity: -3, handler: scriptExistsCmd},
			"flush":  {arity: -2, handler: scriptFlushCmd},
			"kill":   {arity: 2, handler: scriptKillCmd},
			"help":   {arity: 2, handler: scriptHelpCmd},
		}},
	}
}

// evalOf names the EVAL each EVALSHA becomes.
var evalOf = map[string]string{"evalsha": "eval", "evalsha_ro": "eval_ro"}

// evalshaRewrite returns the rewrite of EVALSHA into the EVAL command
// named to: the digest is replaced by the cached text.
func evalshaRewrite(to string) func(s *Server, args [][]byte) ([][]byte, string) {
	return func(s *Server, args [][]byte) ([][]byte, string) {
		body, ok := s.scripts.get(args[1])
		if !ok {
			return nil, "NOSCRIPT No matching script. Please use EVAL."
		}
		return evalArgs(to, body, args), ""
	}
}

// evalArgs is EVALSHA's args as the EVAL named to of body.
func evalArgs(to string, body []byte, args [][]byte) [][]byte {
	out := make([][]byte, len(args))
	copy(out, args)
	out[0], out[1] = []byte(to), body
	return out
}

// noteEval caches the text of an EVAL this node received, as Redis does,
// so that a later EVALSHA of it works here.
func (s *Server) noteEval(args [][]byte) {
	if len(args) > 1 && raftfsm.CheckScript(args[1]) == nil {
		s.scripts.add(args[1], false)
	}
}

func scriptLoadCmd(s *Server, c *client, args [][]byte) {
	if err := raftfsm.CheckScript(args[2]); err != nil {
		s.replyError(c, c.cur, err.Error())
		return
	}
	c.out = appendBulk(c.out, s.scripts.add(args[2], true))
}

func scriptExistsCmd(s *Server, c *client, args [][]byte) {
	c.out = appendArrayLen(c.out, len(args)-2)
	for _, sha := range args[2:] {
		n := int64(0)
		if _, ok := s.scripts.get(sha); ok {
			n = 1
		}
		c.out = appendInt(c.out, n)
	}
}

func scriptFlushCmd(s *Server, c *client, args [][]byte) {
	if len(args) > 3 || (len(args) == 3 && !raftfsm.EqFold(args[2], "sync") && !raftfsm.EqFold(args[2], "async")) {
		s.replyError(c, c.cur, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	s.scripts.flush()
	c.out = appendStatus(c.out, "OK")
}

// scriptKillCmd: a script runs inside the shard's log apply and is stopped
// by its instruction budget, never from outside (that would make replicas
// differ), so there is never one to kill.
func scriptKillCmd(s *Server, c *client, args [][]byte) {
	s.replyError(c, c.cur, "NOTBUSY No scripts in execution right now.")
}

func scriptHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "SCRIPT", []string{
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script (never needed here: scripts have an instruction budget).",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}
