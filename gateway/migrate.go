package gateway

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
// [AUTH password] [AUTH2 username password] [KEYS key [key ...]]
//
// As in Redis 7.0 (cluster.c migrateCommand): the values are serialized
// under one engine read, sent to the target as pipelined RESTORE-ASKING
// commands over a cached connection, and the keys the target acknowledged
// are deleted with one DEL entry unless COPY is given. The network part runs
// without any engine lock held, and server shutdown aborts it.

const (
	migrateCacheItems = 64        // MIGRATE_SOCKET_CACHE_ITEMS
	migrateChunk      = 64 * 1024 // the command is written in 64K chunks
	migrateMaxLine    = 1023      // syncReadLine's buffer keeps at most this
)

// migrateSocketTTL closes a cached connection idle for longer (Redis's
// MIGRATE_SOCKET_CACHE_TTL, 10 s). A variable so tests can shorten it.
var migrateSocketTTL = 10 * time.Second

// migrateKeys returns MIGRATE's key positions as Redis's migrateGetKeys: the
// key argument, or every argument after KEYS. With KEYS and a non-empty key
// argument there are none; the command then fails with its own error.
func migrateKeys(args [][]byte) []int {
	first, num := 3, 1
	for i := 6; i < len(args); i++ {
		a := args[i]
		switch {
		case raftfsm.EqFold(a, "keys"):
			if len(args[3]) > 0 {
				return nil
			}
			first, num = i+1, len(args)-i-1
			i = len(args)
		case raftfsm.EqFold(a, "auth"):
			i++
		case raftfsm.EqFold(a, "auth2"):
			i += 2
		}
	}
	if first >= len(args) || num <= 0 {
		return nil
	}
	pos := make([]int, num)
	for j := range pos {
		pos[j] = first + j
	}
	return pos
}

// migrateItem is one key to send.
type migrateItem struct {
	key     []byte
	ttl     int64 // relative ms, 0 = persistent
	payload []byte
	ver     uint64 // KeyVersion when read
}

// migrateOpts is the parsed command.
type migrateOpts struct {
	host, port string
	dbid       int64
	timeout    time.Duration
	copy       bool
	replace    bool
	user, pass []byte
	hasPass    bool
	keys       [][]byte
}

func parseMigrate(args [][]byte) (migrateOpts, string) {
	o := migrateOpts{host: string(args[1]), port: string(args[2])}
	first, num := 3, 1
	for j := 6; j < len(args); j++ {
		more := len(args) - 1 - j
		a := args[j]
		switch {
		case raftfsm.EqFold(a, "copy"):
			o.copy = true
		case raftfsm.EqFold(a, "replace"):
			o.replace = true
		case raftfsm.EqFold(a, "auth"):
			if more < 1 {
				return o, "ERR syntax error"
			}
			j++
			o.pass, o.hasPass = args[j], true
		case raftfsm.EqFold(a, "auth2"):
			if more < 2 {
				return o, "ERR syntax error"
			}
			o.user, o.pass, o.hasPass = args[j+1], args[j+2], true
			j += 2
		case raftfsm.EqFold(a, "keys"):
			if len(args[3]) != 0 {
				return o, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
			}
			first, num = j+1, len(args)-j-1
			j = len(args)
		default:
			return o, "ERR syntax error"
		}
	}
	timeout, ok := raftfsm.ParseInt(args[5])
	if !ok {
		return o, "ERR value is not an integer or out of range"
	}
	dbid, ok := raftfsm.ParseInt(args[4])
	if !ok {
		return o, "ERR value is not an integer or out of range"
	}
	if timeout <= 0 {
		timeout = 1000
	}
	if timeout > int64(time.Duration(1<<62)/time.Millisecond) {
		timeout = int64(time.Duration(1<<62) / time.Millisecond)
	}
	o.timeout = time.Duration(timeout) * time.Millisecond
	o.dbid = dbid
	o.keys = args[first : first+num]
	return o, ""
}

func migrateCmd(s *Server, c *client, args [][]byte) {
	// A gateway command is not routed by dispatch: route the keys here, as
	// Redis's getNodeByQuery does before the command runs.
	slot := -1
	var first slots.Slot
	for i, p := range migrateKeys(args) {
		sl := slots.Of(args[p])
		if i > 0 && sl != first {
			s.replyError(c, nil, "CROSSSLOT Keys in request don't hash to the same slot")
			return
		}
		first, slot = sl, int(sl)
	}
	if slot >= 0 {
		if msg := s.backend.Route(first, true, c.readonly, false); msg != "" {
			s.replyError(c, nil, msg)
			return
		}
	}
	o, msg := parseMigrate(args)
	if msg != "" {
		s.replyError(c, nil, msg)
		return
	}

	var items []migrateItem
	read := func(db *raftfsm.DB, now int64) {
		items = items[:0]
		rc := raftfsm.NewCtx(db, now, false, 0)
		for _, k := range o.keys {
			v := rc.Get(k)
			if v == nil {
				continue
			}
			at, _ := rc.Expiry(k)
			ttl := int64(0)
			if at != 0 {
				ttl = max(at-now, 1)
			}
			// Serialized under the read lock: values may be mutated in
			// place by later writes.
			items = append(items, migrateItem{key: k, ttl: ttl, payload: raftfsm.DumpPayload(v),
				ver: db.KeyVersion(k, now)})
		}
	}
	if err := s.backend.Read(s.ctx, false, read); err != nil {
		s.replyError(c, nil, errorText(err, false, slot))
		return
	}
	if len(items) == 0 {
		c.out = append(c.out, "+NOKEY\r\n"...)
		return
	}

	res := s.migrateTransfer(&o, items)
	if !o.copy && len(res.acked) > 0 {
		// Redis deletes atomically with the read; here other writes may
		// have run during the transfer. The version check makes the DEL a
		// no-op if any migrated key changed meanwhile, so a newer value is
		// never lost (the source then keeps its keys, as with COPY).
		keys := make([][]byte, 0, len(res.acked))
		vers := make([]uint64, 0, len(res.acked))
		for _, i := range res.acked {
			keys = append(keys, items[i].key)
			vers = append(vers, items[i].ver)
		}
		del := append([][]byte{[]byte("del")}, keys...)
		cmds := [][][]byte{raftfsm.WatchCheck(keys, vers), del}
		if _, err := s.proposeWrites(cmds); err != nil && res.err == "" {
			// Copied but not deleted: the outcome the client must hear.
			s.replyError(c, nil, errorText(err, true, slot))
			return
		}
	}
	if res.err != "" {
		s.replyError(c, nil, res.err)
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

// migrateResult is the outcome of a transfer: the items the target
// acknowledged, and the error to reply ("" = +OK).
type migrateResult struct {
	acked []int
	err   string
}

const (
	errMigrateConnect = "IOERR error or timeout connecting to the client"
	errMigrateRead    = "IOERR error or timeout reading to target instance"
	errMigrateWrite   = "IOERR error or timeout writing to target instance"
)

// migrateTransfer sends items to the target. Like Redis it retries once on a
// fresh connection when a cached one turns out broken before anything was
// acknowledged (not after a timeout).
func (s *Server) migrateTransfer(o *migrateOpts, items []migrateItem) migrateResult {
	cache := s.migrateCache()
	name := o.host + ":" + o.port
	auth, restores := buildMigrateCommand(o, items)
	mayRetry := true
	for {
		sock := cache.get(name)
		if sock == nil {
			var err error
			sock, err = dialMigrate(s.ctx, o.host, o.port, o.timeout)
			if err != nil {
				cache.done()
				if !connectedLikeRedis(err) {
					return migrateResult{err: errMigrateConnect}
				}
				// Redis's blocking connect "succeeds" here and the
				// first write fails: retried unless it timed out.
				if mayRetry && !isTimeout(err) && s.ctx.Err() == nil {
					mayRetry = false
					continue
				}
				return migrateResult{err: errMigrateWrite}
			}
		}
		res, retry, keep := sock.transfer(s.ctx, o, items, auth, restores, mayRetry)
		if keep {
			cache.put(name, sock)
		} else {
			sock.close()
			cache.done()
		}
		if !retry {
			return res
		}
		mayRetry = false
	}
}

// buildMigrateCommand encodes AUTH and the RESTORE-ASKING commands; SELECT,
// which depends on the connection, goes between them (migrateSocket.transfer).
func buildMigrateCommand(o *migrateOpts, items []migrateItem) (auth, restores []byte) {
	var b []byte
	if o.hasPass {
		if o.user != nil {
			b = appendArrayLen(b, 3)
			b = appendBulk(b, "AUTH")
			b = appendBulkBytes(b, o.user)
		} else {
			b = appendArrayLen(b, 2)
			b = appendBulk(b, "AUTH")
		}
		b = appendBulkBytes(b, o.pass)
	}
	auth = b
	n := 0
	for _, it := range items {
		n += len(it.key) + len(it.payload) + 80
	}
	b = make([]byte, 0, n)
	for _, it := range items {
		if o.replace {
			b = appendArrayLen(b, 5)
		} else {
			b = appendArrayLen(b, 4)
		}
		b = appendBulk(b, "RESTORE-ASKING")
		b = appendBulkBytes(b, it.key)
		b = appendBulk(b, strconv.FormatInt(it.ttl, 10))
		b = appendBulkBytes(b, it.payload)
		if o.replace {
			b = appendBulk(b, "REPLACE")
		}
	}
	return auth, b
}

// migrateSocket is a connection to a MIGRATE target.
type migrateSocket struct {
	conn    net.Conn
	rd      *bufio.Reader
	lastDB  int64 // the target's selected db as far as we know; -1 unknown
	lastUse time.Time
}

// connectedLikeRedis reports whether a dial error is one that Redis's
// non-blocking connect only sees later, when writing (refused, timed out):
// Redis then answers "writing", not "connecting". Resolution failures and
// errors connect(2) returns at once are "connecting".
func connectedLikeRedis(err error) bool {
	var dnsErr *net.DNSError
	var addrErr *net.AddrError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &addrErr), errors.Is(err, errMigratePort):
		return false
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EADDRNOTAVAIL),
		errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EAFNOSUPPORT):
		return false
	}
	return true
}

var errMigratePort = errors.New("invalid port")

// migratePort converts the port argument as Redis does (atoi, then the
// resolver's 16-bit port); a negative port does not resolve.
func migratePort(p string) (string, error) {
	i, neg := 0, false
	for i < len(p) && (p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r')) {
		i++
	}
	if i < len(p) && (p[i] == '+' || p[i] == '-') {
		neg = p[i] == '-'
		i++
	}
	n := int64(0)
	for ; i < len(p) && p[i] >= '0' && p[i] <= '9'; i++ {
		n = n*10 + int64(p[i]-'0')
		if n > 1<<31 {
			n = 1 << 31 // atoi's int overflow: out of range either way
		}
	}
	if neg && n != 0 {
		return "", errMigratePort
	}
	return strconv.FormatInt(n&0xffff, 10), nil
}

func dialMigrate(ctx context.Context, host, port string, timeout time.Duration) (*migrateSocket, error) {
	p, err := migratePort(port)
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, p))
	if err != nil {
		return nil, err
	}
	// A fresh connection is in db 0, so MIGRATE to db 0 sends no SELECT
	// (which a cluster-mode target would refuse for any other db anyway).
	return &migrateSocket{conn: conn, rd: bufio.NewReader(conn), lastDB: 0}, nil
}

func (m *migrateSocket) close() { _ = m.conn.Close() }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// readLine reads one reply line without its CRLF, as syncReadLine does: an
// empty line counts as a failure, a long one is truncated.
func (m *migrateSocket) readLine(timeout time.Duration) (string, error) {
	_ = m.conn.SetReadDeadline(time.Now().Add(timeout))
	line, err := m.rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if line == "" {
		return "", errors.New("empty reply line")
	}
	if len(line) > migrateMaxLine {
		line = line[:migrateMaxLine]
	}
	return line, nil
}

// transfer runs one attempt on m. retry asks the caller for another attempt
// on a fresh connection; keep says whether m may be cached again.
func (m *migrateSocket) transfer(ctx context.Context, o *migrateOpts, items []migrateItem, auth, restores []byte,
	mayRetry bool) (res migrateResult, retry, keep bool) {
	// Shutdown closes the connection, which fails whatever I/O is waiting.
	stop := context.AfterFunc(ctx, m.close)
	defer func() {
		if !stop() {
			keep = false
		}
	}()
	sel := m.lastDB != o.dbid
	buf := restores
	if sel || len(auth) > 0 {
		buf = make([]byte, 0, len(auth)+len(restores)+48)
		buf = append(buf, auth...)
		if sel {
			buf = appendArrayLen(buf, 2)
			buf = appendBulk(buf, "SELECT")
			buf = appendBulk(buf, strconv.FormatInt(o.dbid, 10))
		}
		buf = append(buf, restores...)
	}
	socketErr := func(err error, writing bool) (migrateResult, bool, bool) {
		if mayRetry && !isTimeout(err) && ctx.Err() == nil {
			return migrateResult{}, true, false
		}
		if writing {
			return migrateResult{err: errMigrateWrite}, false, false
		}
		return migrateResult{err: errMigrateRead}, false, false
	}
	for pos := 0; pos < len(buf); {
		end := min(pos+migrateChunk, len(buf))
		_ = m.conn.SetWriteDeadline(time.Now().Add(o.timeout))
		n, err := m.conn.Write(buf[pos:end])
		if err != nil {
			return socketErr(err, true)
		}
		pos += n
	}
	var authReply, selReply string
	var err error
	if o.hasPass {
		if authReply, err = m.readLine(o.timeout); err != nil {
			return socketErr(err, false)
		}
	}
	if sel {
		if selReply, err = m.readLine(o.timeout); err != nil {
			return socketErr(err, false)
		}
		if selReply[0] != '-' {
			m.lastDB = o.dbid
		}
	}
	for j := range items {
		line, err := m.readLine(o.timeout)
		if err != nil {
			if res.err == "" && j == 0 {
				return socketErr(err, false)
			}
			if res.err == "" {
				// Some keys were acknowledged (and will be deleted): no
				// retry, the client hears about the broken connection.
				res.err = errMigrateRead
			}
			return res, false, false
		}
		var errLine string
		switch {
		case o.hasPass && authReply[0] == '-':
			errLine = authReply
		case sel && selReply[0] == '-':
			errLine = selReply
		case line[0] == '-':
			errLine = line
		}
		if errLine != "" {
			if res.err == "" {
				res.err = "ERR Target instance replied with error: " + errLine[1:]
			}
			continue
		}
		res.acked = append(res.acked, j)
	}
	m.lastUse = time.Now()
	return res, false, true
}

// migrateSockets caches idle MIGRATE connections by "host:port". A
// connection in use is taken out of the cache, so concurrent MIGRATEs to one
// target never share it.
type migrateSockets struct {
	mu     sync.Mutex
	socks  map[string]*migrateSocket
	busy   int // checked out
	ttl    time.Duration
	timer  *time.Timer
	closed bool
}

// migrateCaches holds each server's cache (Server has no field for it); the
// entry is dropped when the server shuts down.
var migrateCaches sync.Map // *Server -> *migrateSockets

func (s *Server) migrateCache() *migrateSockets {
	if v, ok := migrateCaches.Load(s); ok {
		return v.(*migrateSockets)
	}
	ms := &migrateSockets{socks: make(map[string]*migrateSocket), ttl: migrateSocketTTL}
	v, loaded := migrateCaches.LoadOrStore(s, ms)
	if loaded {
		return v.(*migrateSockets)
	}
	context.AfterFunc(s.ctx, func() {
		migrateCaches.Delete(s)
		ms.closeAll()
	})
	return ms
}

// migrateCachedSockets is INFO's migrate_cached_sockets.
func (s *Server) migrateCachedSockets() int {
	v, ok := migrateCaches.Load(s)
	if !ok {
		return 0
	}
	ms := v.(*migrateSockets)
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.socks) + ms.busy
}

// get checks out name's cached connection, or returns nil.
func (ms *migrateSockets) get(name string) *migrateSocket {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.busy++ // until put or done
	if ms.closed {
		return nil
	}
	m := ms.socks[name]
	delete(ms.socks, name)
	return m
}

// put returns (or adds) a connection to the cache.
func (ms *migrateSockets) put(name string, m *migrateSocket) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.busy--
	if ms.closed {
		m.close()
		return
	}
	if old := ms.socks[name]; old != nil {
		// A concurrent MIGRATE cached one meanwhile: keep the newer.
		old.close()
	} else if len(ms.socks) >= migrateCacheItems {
		for k, v := range ms.socks { // drop an arbitrary one, as Redis drops a random one
			v.close()
			delete(ms.socks, k)
			break
		}
	}
	ms.socks[name] = m
	ms.armLocked()
}

// done is put for a connection that is not cached again.
func (ms *migrateSockets) done() {
	ms.mu.Lock()
	ms.busy--
	ms.mu.Unlock()
}

// armLocked schedules the sweep for the oldest connection's expiry.
func (ms *migrateSockets) armLocked() {
	if len(ms.socks) == 0 || ms.closed {
		return
	}
	var oldest time.Time
	for _, m := range ms.socks {
		if oldest.IsZero() || m.lastUse.Before(oldest) {
			oldest = m.lastUse
		}
	}
	d := time.Until(oldest.Add(ms.ttl)) + time.Millisecond
	if ms.timer == nil {
		ms.timer = time.AfterFunc(d, ms.sweep)
	} else {
		ms.timer.Reset(d)
	}
}

// sweep closes connections idle for longer than the TTL.
func (ms *migrateSockets) sweep() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	now := time.Now()
	for k, m := range ms.socks {
		if now.Sub(m.lastUse) >= ms.ttl {
			m.close()
			delete(ms.socks, k)
		}
	}
	ms.armLocked()
}

func (ms *migrateSockets) closeAll() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.closed = true
	if ms.timer != nil {
		ms.timer.Stop()
	}
	for k, m := range ms.socks {
		m.close()
		delete(ms.socks, k)
	}
}
