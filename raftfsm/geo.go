package raftfsm

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// The geo commands. A geo index is a plain sorted set whose scores are
// 52-bit geohashes (geohash.go), so ZRANGE, DUMP/RESTORE and migration
// work on it unchanged.

var (
	errGeoUnit      = Err("ERR unsupported unit provided. please use M, KM, FT, MI")
	errGeoRadius    = Err("ERR need numeric radius")
	errGeoNegRadius = Err("ERR radius cannot be negative")
	errGeoWidth     = Err("ERR need numeric width")
	errGeoHeight    = Err("ERR need numeric height")
	errGeoNegBox    = Err("ERR height or width cannot be negative")
	errGeoMember    = Err("ERR could not decode requested zset member")
	errGeoCount     = Err("ERR COUNT must be > 0")
	errGeoAny       = Err("ERR the ANY argument requires COUNT argument")
)

func init() {
	Register(
		Command{Name: "geoadd", Arity: -5, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: geoaddCommand},
		Command{Name: "geodist", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: geodistCommand},
		Command{Name: "geohash", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: geohashCommand},
		Command{Name: "geopos", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: geoposCommand},
		Command{Name: "georadius", Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, First: 1, Last: 1, Step: 1,
			Keys: geoStoreKeys(6), Exec: georadiusCommand},
		Command{Name: "georadiusbymember", Arity: -5, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, First: 1, Last: 1, Step: 1,
			Keys: geoStoreKeys(5), Exec: georadiusbymemberCommand},
		Command{Name: "georadius_ro", Arity: -6, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: georadiusROCommand},
		Command{Name: "georadiusbymember_ro", Arity: -5, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: georadiusbymemberROCommand},
		Command{Name: "geosearch", Arity: -7, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: geosearchCommand},
		Command{Name: "geosearchstore", Arity: -8, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Exec: geosearchstoreCommand},
	)
}

// geoStoreKeys returns the Keys func of GEORADIUS[BYMEMBER]: the source
// key plus the destination of the last STORE or STOREDIST, found by
// walking the options from base the way the command parses them.
func geoStoreKeys(base int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		keys := []int{1}
		store := 0
		for i := base; i < len(args); i++ {
			more := i+1 < len(args)
			switch {
			case EqFold(args[i], "count") && more:
				i++
			case (EqFold(args[i], "store") || EqFold(args[i], "storedist")) && more:
				store = i + 1
				i++
			}
		}
		if store > 0 {
			keys = append(keys, store)
		}
		return keys
	}
}

// ---- argument helpers ---------------------------------------------------------

// geoParseLonLat parses a longitude, latitude pair and checks its range.
func geoParseLonLat(lonArg, latArg []byte) (lon, lat float64, err Reply, ok bool) {
	lon, ok1 := ParseFloat(lonArg)
	lat, ok2 := ParseFloat(latArg)
	if !ok1 || !ok2 {
		return 0, 0, ErrNotFloat, false
	}
	if lon < geoLonMin || lon > geoLonMax || lat < geoLatMin || lat > geoLatMax {
		return 0, 0, Err("ERR invalid longitude,latitude pair " + geoFmtF(lon) + "," + geoFmtF(lat)), false
	}
	return lon, lat, Reply{}, true
}

// geoFmtF formats f as C's printf("%f") does, "inf" included.
func geoFmtF(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'f', 6, 64)
}

// geoUnit returns the number of metres in one unit.
func geoUnit(b []byte) (float64, bool) {
	switch {
	case EqFold(b, "m"):
		return 1, true
	case EqFold(b, "km"):
		return 1000, true
	case EqFold(b, "ft"):
		return 0.3048, true
	case EqFold(b, "mi"):
		return 1609.34, true
	}
	return 0, false
}

// geoParseDistance parses "<radius> <unit>".
func geoParseDistance(args [][]byte) (radius, conv float64, err Reply, ok bool) {
	radius, ok = ParseFloat(args[0])
	if !ok {
		return 0, 0, errGeoRadius, false
	}
	if radius < 0 {
		return 0, 0, errGeoNegRadius, false
	}
	if conv, ok = geoUnit(args[1]); !ok {
		return 0, 0, errGeoUnit, false
	}
	return radius, conv, Reply{}, true
}

// geoParseBox parses "<width> <height> <unit>".
func geoParseBox(args [][]byte) (w, h, conv float64, err Reply, ok bool) {
	if w, ok = ParseFloat(args[0]); !ok {
		return 0, 0, 0, errGeoWidth, false
	}
	if h, ok = ParseFloat(args[1]); !ok {
		return 0, 0, 0, errGeoHeight, false
	}
	if h < 0 || w < 0 {
		return 0, 0, 0, errGeoNegBox, false
	}
	if conv, ok = geoUnit(args[2]); !ok {
		return 0, 0, 0, errGeoUnit, false
	}
	return w, h, conv, Reply{}, true
}

// ---- reply formats ------------------------------------------------------------

// geoDistText renders a distance with exactly four decimals, rounding
// half to even as llrint does.
func geoDistText(d float64) string {
	if d == 0 {
		return "0.0000"
	}
	v := math.RoundToEven(d * 10000)
	neg := v < 0
	s := strconv.FormatFloat(math.Abs(v), 'f', 0, 64)
	if len(s) < 5 {
		s = strings.Repeat("0", 5-len(s)) + s
	}
	s = s[:len(s)-4] + "." + s[len(s)-4:]
	if neg {
		s = "-" + s
	}
	return s
}

// geoCoord is a coordinate reply: Redis prints it with 17 decimals and
// trims the trailing zeros (a bulk string in RESP2, a double in RESP3).
// Str carries that text so that the gateway sends it verbatim.
func geoCoord(f float64) Reply {
	s := TrimFraction(strconv.FormatFloat(f, 'f', 17, 64))
	if s == "-0" {
		s = "0"
	}
	return Reply{Kind: KindDouble, F: f, Str: s}
}

// ---- GEOADD ---------------------------------------------------------------------

// geoaddCommand turns each longitude, latitude, member triple into a
// score, member pair and hands the lot to ZADD, as Redis does.
func geoaddCommand(c *Ctx, args [][]byte) Reply {
	idx := 2
	var nx, xx bool
opts:
	for ; idx < len(args); idx++ {
		switch {
		case EqFold(args[idx], "nx"):
			nx = true
		case EqFold(args[idx], "xx"):
			xx = true
		case EqFold(args[idx], "ch"):
		default:
			break opts
		}
	}
	n := len(args) - idx
	if n%3 != 0 || (nx && xx) {
		return ErrSyntax
	}
	zargs := make([][]byte, 0, idx+n/3*2)
	zargs = append(zargs, []byte("zadd"))
	zargs = append(zargs, args[1:idx]...)
	for j := idx; j < len(args); j += 3 {
		lon, lat, errReply, ok := geoParseLonLat(args[j], args[j+1])
		if !ok {
			return errReply
		}
		score := strconv.FormatUint(uint64(geoEncodeScore(lon, lat)), 10)
		zargs = append(zargs, []byte(score), args[j+2])
	}
	return zaddGeneric(c, zargs, 0)
}

// ---- GEODIST / GEOHASH / GEOPOS ---------------------------------------------------

func geodistCommand(c *Ctx, args [][]byte) Reply {
	conv := 1.0
	switch {
	case len(args) == 5:
		var ok bool
		if conv, ok = geoUnit(args[4]); !ok {
			return errGeoUnit
		}
	case len(args) > 5:
		return ErrSyntax
	}
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Nil()
	}
	s1, ok1 := z.Score(args[2])
	s2, ok2 := z.Score(args[3])
	if !ok1 || !ok2 {
		return Nil()
	}
	lon1, lat1 := geoDecodeScore(s1)
	lon2, lat2 := geoDecodeScore(s2)
	return Bulk(geoDistText(geoDistance(lon1, lat1, lon2, lat2) / conv))
}

const geoAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// geoHashString renders a score as the standard 11-character geohash.
// Scores use latitudes within ±85.05, standard geohashes ±90: decode and
// encode again over the standard ranges.
func geoHashString(score float64) string {
	lon, lat := geoDecodeScore(score)
	h, _ := geoEncode(geoRange{-180, 180}, geoRange{-90, 90}, lon, lat, geoStepMax)
	var buf [11]byte
	for i := 0; i < 10; i++ {
		buf[i] = geoAlphabet[(h.bits>>(52-uint(i+1)*5))&0x1f]
	}
	buf[10] = '0' // 52 bits fill ten characters; the eleventh is always zero
	return string(buf[:])
}

func geohashCommand(c *Ctx, args [][]byte) Reply {
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	out := make([]Reply, len(args)-2)
	for j, m := range args[2:] {
		out[j] = Nil()
		if z != nil {
			if s, found := z.Score(m); found {
				out[j] = Bulk(geoHashString(s))
			}
		}
	}
	return Array(out)
}

func geoposCommand(c *Ctx, args [][]byte) Reply {
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	out := make([]Reply, len(args)-2)
	for j, m := range args[2:] {
		out[j] = NilArray()
		if z != nil {
			if s, found := z.Score(m); found {
				lon, lat := geoDecodeScore(s)
				out[j] = Array([]Reply{geoCoord(lon), geoCoord(lat)})
			}
		}
	}
	return Array(out)
}

// ---- GEORADIUS / GEOSEARCH family ------------------------------------------------

// Which command of the search family runs.
const (
	geoFromCoords  = 1 << iota // GEORADIUS[_RO]: centre given as lon lat
	geoFromMember              // GEORADIUSBYMEMBER[_RO]: centre is a member
	geoNoStore                 // the _RO forms: no STORE/STOREDIST
	geoSearch                  // GEOSEARCH syntax
	geoSearchStore             // GEOSEARCHSTORE: destination first, STOREDIST flag
)

const (
	geoSortNone = iota
	geoSortAsc
	geoSortDesc
)

func georadiusCommand(c *Ctx, args [][]byte) Reply {
	return geoSearchGeneric(c, args, 1, geoFromCoords)
}
func georadiusbymemberCommand(c *Ctx, args [][]byte) Reply {
	return geoSearchGeneric(c, args, 1, geoFromMember)
}
func georadiusROCommand(c *Ctx, args [][]byte) Reply {
	return geoSearchGeneric(c, args, 1, geoFromCoords|geoNoStore)
}
func georadiusbymemberROCommand(c *Ctx, args [][]byte) Reply {
	return geoSearchGeneric(c, args, 1, geoFromMember|geoNoStore)
}
func geosearchCommand(c *Ctx, args [][]byte) Reply { return geoSearchGeneric(c, args, 1, geoSearch) }
func geosearchstoreCommand(c *Ctx, args [][]byte) Reply {
	return geoSearchGeneric(c, args, 2, geoSearch|geoSearchStore)
}

// geoQuery is a parsed search request.
type geoQuery struct {
	shape                          geoShape
	store                          []byte // destination key, nil to reply
	storeDist                      bool
	withDist, withHash, withCoords bool
	fromMember, fromLonLat         bool
	byRadius, byBox                bool
	sort                           int
	any                            bool
	count                          int64 // 0: unlimited
}

// geoPoint is one match.
type geoPoint struct {
	member   string
	lon, lat float64
	dist     float64 // metres until the reply converts it
	score    float64
}

func geoSearchGeneric(c *Ctx, args [][]byte, srcIdx int, flags int) Reply {
	z, ok := zsRead(c, args[srcIdx])
	if !ok {
		return ErrWrongType
	}
	q := geoQuery{}
	var base int
	switch {
	case flags&geoFromCoords != 0:
		base = 6
		lon, lat, errReply, ok := geoParseLonLat(args[2], args[3])
		if !ok {
			return errReply
		}
		q.shape.lon, q.shape.lat = lon, lat
		if q.shape.radius, q.shape.conv, errReply, ok = geoParseDistance(args[4:6]); !ok {
			return errReply
		}
	case flags&geoFromMember != 0:
		base = 5
		// Without the key, parse the options only to pick the reply.
		if z != nil {
			s, found := z.Score(args[2])
			if !found {
				return errGeoMember
			}
			q.shape.lon, q.shape.lat = geoDecodeScore(s)
			var errReply Reply
			if q.shape.radius, q.shape.conv, errReply, ok = geoParseDistance(args[3:5]); !ok {
				return errReply
			}
		}
	default:
		base = 2
		if flags&geoSearchStore != 0 {
			base = 3
			q.store = args[1]
		}
	}
	if errReply, ok := geoParseOptions(&q, z, args, base, flags); !ok {
		return errReply
	}
	if errReply, ok := geoCheckQuery(&q, args[0], flags); !ok {
		return errReply
	}

	if z == nil {
		if q.store != nil {
			c.Delete(q.store)
			return Int(0)
		}
		return Array([]Reply{})
	}
	// COUNT returns the nearest matches unless ANY asks for any of them.
	if q.count != 0 && q.sort == geoSortNone && !q.any {
		q.sort = geoSortAsc
	}
	limit := 0
	if q.any {
		limit = int(min(q.count, math.MaxInt32))
	}
	pts := geoCollect(z, &q.shape, limit)
	switch q.sort {
	case geoSortAsc:
		slices.SortStableFunc(pts, func(a, b geoPoint) int { return cmpFloat(a.dist, b.dist) })
	case geoSortDesc:
		slices.SortStableFunc(pts, func(a, b geoPoint) int { return cmpFloat(b.dist, a.dist) })
	}
	if q.count > 0 && int64(len(pts)) > q.count {
		pts = pts[:q.count]
	}
	for i := range pts {
		pts[i].dist /= q.shape.conv
	}
	if q.store != nil {
		event := "georadiusstore"
		if flags&geoSearch != 0 {
			event = "geosearchstore"
		}
		return geoStore(c, &q, pts, event)
	}
	return geoReply(&q, pts)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// geoParseOptions reads the options from args[base:] into q. For
// FROMMEMBER it needs the source zset z (nil when the key is missing).
func geoParseOptions(q *geoQuery, z *zsetValue, args [][]byte, base, flags int) (Reply, bool) {
	search := flags&geoSearch != 0
	canStore := flags&(geoNoStore|geoSearch) == 0
	for i := base; i < len(args); i++ {
		a := args[i]
		left := len(args) - i - 1 // arguments after this one
		switch {
		case EqFold(a, "withdist"):
			q.withDist = true
		case EqFold(a, "withhash"):
			q.withHash = true
		case EqFold(a, "withcoord"):
			q.withCoords = true
		case EqFold(a, "any"):
			q.any = true
		case EqFold(a, "asc"):
			q.sort = geoSortAsc
		case EqFold(a, "desc"):
			q.sort = geoSortDesc
		case EqFold(a, "count") && left >= 1:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return ErrNotInt, false
			}
			if n <= 0 {
				return errGeoCount, false
			}
			q.count = n
			i++
		case EqFold(a, "store") && left >= 1 && canStore:
			q.store, q.storeDist = args[i+1], false
			i++
		case EqFold(a, "storedist") && left >= 1 && canStore:
			q.store, q.storeDist = args[i+1], true
			i++
		case EqFold(a, "storedist") && flags&geoSearchStore != 0:
			q.storeDist = true
		case EqFold(a, "frommember") && left >= 1 && search && !q.fromLonLat:
			if z != nil {
				s, found := z.Score(args[i+1])
				if !found {
					return errGeoMember, false
				}
				q.shape.lon, q.shape.lat = geoDecodeScore(s)
			}
			q.fromMember = true
			i++
		case EqFold(a, "fromlonlat") && left >= 2 && search && !q.fromMember:
			lon, lat, errReply, ok := geoParseLonLat(args[i+1], args[i+2])
			if !ok {
				return errReply, false
			}
			q.shape.lon, q.shape.lat = lon, lat
			q.fromLonLat = true
			i += 2
		case EqFold(a, "byradius") && left >= 2 && search && !q.byBox:
			r, conv, errReply, ok := geoParseDistance(args[i+1 : i+3])
			if !ok {
				return errReply, false
			}
			q.shape.box, q.shape.radius, q.shape.conv = false, r, conv
			q.byRadius = true
			i += 2
		case EqFold(a, "bybox") && left >= 3 && search && !q.byRadius:
			w, h, conv, errReply, ok := geoParseBox(args[i+1 : i+4])
			if !ok {
				return errReply, false
			}
			q.shape.box, q.shape.width, q.shape.height, q.shape.conv = true, w, h, conv
			q.byBox = true
			i += 3
		default:
			return ErrSyntax, false
		}
	}
	return Reply{}, true
}

// geoCheckQuery rejects option combinations, in Redis's order.
func geoCheckQuery(q *geoQuery, name []byte, flags int) (Reply, bool) {
	if q.store != nil && (q.withDist || q.withHash || q.withCoords) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		return Err("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options"), false
	}
	if flags&geoSearch != 0 && !q.fromMember && !q.fromLonLat {
		return Err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(name)), false
	}
	if flags&geoSearch != 0 && !q.byRadius && !q.byBox {
		return Err("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(name)), false
	}
	if q.any && q.count == 0 {
		return errGeoAny, false
	}
	return Reply{}, true
}

// geoCollect returns the members of z inside shape s, scanning the
// cells that cover it in Redis's order and each cell by ascending score;
// with limit > 0 it stops once it has that many.
func geoCollect(z *zsetValue, s *geoShape, limit int) []geoPoint {
	sa := geoAreasFor(s)
	cells := sa.cells()
	var pts []geoPoint
	last := -1
	for i, h := range cells {
		if h.zero() {
			continue
		}
		// Around huge radii neighbouring cells can coincide: scan each once.
		if last >= 0 && h == cells[last] {
			continue
		}
		if limit > 0 && len(pts) >= limit {
			break
		}
		pts = geoCollectCell(z, s, h, pts, limit)
		last = i
	}
	return pts
}

// geoCollectCell appends the members of cell h that lie inside s.
func geoCollectCell(z *zsetValue, s *geoShape, h geoBits, pts []geoPoint, limit int) []geoPoint {
	r := zScoreRange{
		min:   float64(geoAlign52(h)),
		max:   float64(geoAlign52(geoBits{bits: h.bits + 1, step: h.step})),
		maxex: true,
	}
	x, _ := z.zsl.firstInScore(&r)
	for ; x != nil && r.lteMax(x.score); x = x.level[0].forward {
		lon, lat := geoDecodeScore(x.score)
		if d, in := s.contains(lon, lat); in {
			pts = append(pts, geoPoint{member: x.member, lon: lon, lat: lat, dist: d, score: x.score})
		}
		if limit > 0 && len(pts) >= limit {
			break
		}
	}
	return pts
}

// geoReply renders the matches: bare members, or per member an array of
// the member, then its distance, hash and coordinates as requested.
func geoReply(q *geoQuery, pts []geoPoint) Reply {
	out := make([]Reply, len(pts))
	nested := q.withDist || q.withHash || q.withCoords
	for i, p := range pts {
		if !nested {
			out[i] = Bulk(p.member)
			continue
		}
		item := make([]Reply, 0, 4)
		item = append(item, Bulk(p.member))
		if q.withDist {
			item = append(item, Bulk(geoDistText(p.dist)))
		}
		if q.withHash {
			item = append(item, Int(int64(p.score)))
		}
		if q.withCoords {
			item = append(item, Array([]Reply{geoCoord(p.lon), geoCoord(p.lat)}))
		}
		out[i] = Array(item)
	}
	return Array(out)
}

// geoStore writes the matches to the destination as a zset scored by
// geohash or, with STOREDIST, by distance; no match deletes it.
func geoStore(c *Ctx, q *geoQuery, pts []geoPoint, event string) Reply {
	es := make([]zsEntry, len(pts))
	for i, p := range pts {
		es[i] = zsEntry{m: p.member, s: p.score}
		if q.storeDist {
			es[i].s = p.dist
		}
	}
	zsStoreResult(c, q.store, es, event)
	return Int(int64(len(pts)))
}
