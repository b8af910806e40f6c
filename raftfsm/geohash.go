package raftfsm

import "math"

// Geohash arithmetic behind the geo commands. A geo index is a sorted set
// whose scores are 52-bit geohashes (26 bits of longitude interleaved with
// 26 of latitude), exactly as Redis encodes them, so a dataset moves
// between raftcache and Redis unchanged. The floating-point steps follow
// Redis's order of operations so that encoded scores, decoded coordinates
// and search areas come out bit for bit the same. Every product that
// feeds an addition is wrapped in float64(), which forbids the compiler
// to fuse the two into an FMA (as it may on arm64, even across
// statements): replicas on different platforms must compute the same bits.

const (
	geoLonMin  = -180.0
	geoLonMax  = 180.0
	geoLatMin  = -85.05112878 // the Web Mercator limits (EPSG:900913)
	geoLatMax  = 85.05112878
	geoStepMax = 26 // 26 bits per axis: a 52-bit score fits a double exactly

	geoEarthRadius = 6372797.560856 // metres, the quadratic mean radius Redis uses
	geoMercatorMax = 20037726.37
	geoDegToRad    = math.Pi / 180.0
)

// geoRange is an interval of one coordinate.
type geoRange struct{ min, max float64 }

var (
	geoLonRange = geoRange{geoLonMin, geoLonMax}
	geoLatRange = geoRange{geoLatMin, geoLatMax}
)

// geoBits is a geohash of step bits per axis. The zero value (step 0)
// marks a neighbour box excluded from a search.
type geoBits struct {
	bits uint64
	step uint8
}

func (h geoBits) zero() bool { return h.bits == 0 && h.step == 0 }

// geoArea is the cell a geohash stands for.
type geoArea struct {
	hash     geoBits
	lon, lat geoRange
}

// geoSpread moves the low 32 bits of v to the even bit positions.
func geoSpread(v uint64) uint64 {
	v &= 0xFFFFFFFF
	v = (v | v<<16) & 0x0000FFFF0000FFFF
	v = (v | v<<8) & 0x00FF00FF00FF00FF
	v = (v | v<<4) & 0x0F0F0F0F0F0F0F0F
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}

// geoSqueeze is the inverse of geoSpread: the even bits of v, packed.
func geoSqueeze(v uint64) uint64 {
	v &= 0x5555555555555555
	v = (v | v>>1) & 0x3333333333333333
	v = (v | v>>2) & 0x0F0F0F0F0F0F0F0F
	v = (v | v>>4) & 0x00FF00FF00FF00FF
	v = (v | v>>8) & 0x0000FFFF0000FFFF
	v = (v | v>>16) & 0x00000000FFFFFFFF
	return v
}

// geoInterleave puts lat on the even bits and lon on the odd bits.
func geoInterleave(lat, lon uint32) uint64 {
	return geoSpread(uint64(lat)) | geoSpread(uint64(lon))<<1
}

// geoDeinterleave splits a hash into its latitude and longitude cells.
func geoDeinterleave(bits uint64) (lat, lon uint32) {
	return uint32(geoSqueeze(bits)), uint32(geoSqueeze(bits >> 1))
}

// geoEncode returns the step-bit geohash of a point within the given
// ranges; ok is false outside them or outside the Mercator limits.
func geoEncode(lonR, latR geoRange, lon, lat float64, step uint8) (geoBits, bool) {
	if step == 0 || step > 32 || latR.min == latR.max || lonR.min == lonR.max {
		return geoBits{}, false
	}
	if lon > geoLonMax || lon < geoLonMin || lat > geoLatMax || lat < geoLatMin {
		return geoBits{}, false
	}
	if lat < latR.min || lat > latR.max || lon < lonR.min || lon > lonR.max {
		return geoBits{}, false
	}
	scale := float64(uint64(1) << step)
	latOff := float64((lat-latR.min)/(latR.max-latR.min)) * scale
	lonOff := float64((lon-lonR.min)/(lonR.max-lonR.min)) * scale
	// Truncating to 32 bits as C's implicit conversion does: at the very
	// top of a range the offset is 2^step, one past the last cell.
	return geoBits{bits: geoInterleave(uint32(latOff), uint32(lonOff)), step: step}, true
}

// geoDecode returns the cell of h within the given ranges.
func geoDecode(lonR, latR geoRange, h geoBits) (geoArea, bool) {
	if h.zero() || latR.min == latR.max || lonR.min == lonR.max {
		return geoArea{}, false
	}
	ilat, ilon := geoDeinterleave(h.bits)
	cells := float64(uint64(1) << h.step)
	latScale := latR.max - latR.min
	lonScale := lonR.max - lonR.min
	return geoArea{
		hash: h,
		lat: geoRange{
			min: latR.min + float64(float64(ilat)/cells*latScale),
			max: latR.min + float64(float64(ilat+1)/cells*latScale), // wraps in 32 bits, as in C
		},
		lon: geoRange{
			min: lonR.min + float64(float64(ilon)/cells*lonScale),
			max: lonR.min + float64(float64(ilon+1)/cells*lonScale),
		},
	}, true
}

// center returns the middle of the cell, clamped to the valid ranges.
func (a geoArea) center() (lon, lat float64) {
	lon = (a.lon.min + a.lon.max) / 2
	lon = math.Min(math.Max(lon, geoLonMin), geoLonMax)
	lat = (a.lat.min + a.lat.max) / 2
	lat = math.Min(math.Max(lat, geoLatMin), geoLatMax)
	return lon, lat
}

// geoScoreBits converts a zset score to hash bits the way C's
// (uint64_t) cast does on x86-64, so a score that is no geohash (a
// plain zset queried with GEOPOS) decodes as it would in Redis.
func geoScoreBits(score float64) uint64 {
	switch {
	case math.IsNaN(score) || score <= -(1<<63):
		return 1 << 63
	case score >= 1<<64:
		return 0
	case score < 1<<63:
		return uint64(int64(score))
	}
	return uint64(int64(score-(1<<63))) ^ 1<<63
}

// geoDecodeScore returns the point a 52-bit score stands for.
func geoDecodeScore(score float64) (lon, lat float64) {
	a, _ := geoDecode(geoLonRange, geoLatRange, geoBits{bits: geoScoreBits(score), step: geoStepMax})
	return a.center()
}

// geoEncodeScore returns the score of a point (already range-checked).
func geoEncodeScore(lon, lat float64) float64 {
	h, _ := geoEncode(geoLonRange, geoLatRange, lon, lat, geoStepMax)
	return float64(geoAlign52(h))
}

// geoAlign52 shifts h to a full 52-bit score prefix.
func geoAlign52(h geoBits) uint64 { return h.bits << (52 - 2*uint(h.step)) }

const (
	geoLonBits = 0xaaaaaaaaaaaaaaaa // odd bits: longitude
	geoLatBits = 0x5555555555555555 // even bits: latitude
)

// geoMove steps h one cell along the axis whose bits are axis (wrapping
// around the range): east/north for d > 0, west/south for d < 0.
func geoMove(h geoBits, axis uint64, d int) geoBits {
	if d == 0 {
		return h
	}
	shift := 64 - 2*uint(h.step)
	other := ^axis >> shift // the other axis's bits, within the hash
	v := h.bits & axis
	if d > 0 {
		// Filling the other axis's bits with ones carries the +1 across them.
		v = v + other + 1
	} else {
		v = (v | other) - (other + 1)
	}
	v &= axis >> shift
	h.bits = v | h.bits&^axis
	return h
}

// geoNeighbors lists the eight cells around a hash.
type geoNeighbors struct {
	north, south, east, west, northEast, northWest, southEast, southWest geoBits
}

func geoNeighborsOf(h geoBits) geoNeighbors {
	mv := func(dx, dy int) geoBits { return geoMove(geoMove(h, geoLonBits, dx), geoLatBits, dy) }
	return geoNeighbors{
		east: mv(1, 0), west: mv(-1, 0), north: mv(0, 1), south: mv(0, -1),
		northWest: mv(-1, 1), northEast: mv(1, 1), southEast: mv(1, -1), southWest: mv(-1, -1),
	}
}

// geoEstimateSteps picks the cell size (bits per axis) for a search of
// the given radius in metres around latitude lat.
func geoEstimateSteps(radius, lat float64) uint8 {
	if radius == 0 {
		return geoStepMax
	}
	step := 1
	for radius < geoMercatorMax {
		radius *= 2
		step++
	}
	step -= 2 // so that the radius fits in most cases
	// Cells shrink towards the poles: widen them there.
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	return uint8(min(max(step, 1), geoStepMax))
}

// geoShape is the area of a search: a circle of radius, or a box of
// width by height, around (lon, lat). Sizes are in the caller's unit;
// conv converts them to metres.
type geoShape struct {
	box           bool
	lon, lat      float64
	radius        float64
	width, height float64
	conv          float64
}

// bounds returns the shape's bounding box: min lon, min lat, max lon,
// max lat. Meridians converge towards the poles, so the box is as wide
// as the shape at its edge nearer the pole.
func (s *geoShape) bounds() [4]float64 {
	h, w := s.radius, s.radius
	if s.box {
		h, w = s.height/2, s.width/2
	}
	h *= s.conv
	w *= s.conv
	latDelta := h / geoEarthRadius / geoDegToRad
	lonTop := w / geoEarthRadius / geoCos((s.lat+latDelta)*geoDegToRad) / geoDegToRad
	lonBottom := w / geoEarthRadius / geoCos((s.lat-latDelta)*geoDegToRad) / geoDegToRad
	lonDelta := lonTop
	if s.lat < 0 {
		lonDelta = lonBottom
	}
	return [4]float64{s.lon - lonDelta, s.lat - latDelta, s.lon + lonDelta, s.lat + latDelta}
}

// geoSearchArea is the centre cell of a search and those of its
// neighbours that can hold matches (the others are zero).
type geoSearchArea struct {
	hash geoBits
	nb   geoNeighbors
	area geoArea
}

// cells lists the nine cells in the order Redis scans them.
func (a *geoSearchArea) cells() [9]geoBits {
	n := &a.nb
	return [9]geoBits{a.hash, n.north, n.south, n.east, n.west, n.northEast, n.northWest, n.southEast, n.southWest}
}

// geoAreasFor returns the cells that cover shape s.
func geoAreasFor(s *geoShape) geoSearchArea {
	b := s.bounds()
	minLon, minLat, maxLon, maxLat := b[0], b[1], b[2], b[3]
	radius := s.radius
	if s.box {
		radius = math.Sqrt(float64((s.width/2)*(s.width/2)) + float64((s.height/2)*(s.height/2)))
	}
	radius *= s.conv

	steps := geoEstimateSteps(radius, s.lat)
	at := func(steps uint8) geoSearchArea {
		h, _ := geoEncode(geoLonRange, geoLatRange, s.lon, s.lat, steps)
		a, _ := geoDecode(geoLonRange, geoLatRange, h)
		return geoSearchArea{hash: h, nb: geoNeighborsOf(h), area: a}
	}
	sa := at(steps)

	// Near a cell edge the estimated cells may be too small for the
	// neighbours to reach the whole shape: then use cells twice as big.
	dec := func(h geoBits) geoArea { a, _ := geoDecode(geoLonRange, geoLatRange, h); return a }
	if steps > 1 && (dec(sa.nb.north).lat.max < maxLat || dec(sa.nb.south).lat.min > minLat ||
		dec(sa.nb.east).lon.max < maxLon || dec(sa.nb.west).lon.min > minLon) {
		steps--
		sa = at(steps)
	}

	// Drop the neighbours that the bounding box cannot reach.
	if steps >= 2 {
		n := &sa.nb
		if sa.area.lat.min < minLat {
			n.south, n.southWest, n.southEast = geoBits{}, geoBits{}, geoBits{}
		}
		if sa.area.lat.max > maxLat {
			n.north, n.northEast, n.northWest = geoBits{}, geoBits{}, geoBits{}
		}
		if sa.area.lon.min < minLon {
			n.west, n.southWest, n.northWest = geoBits{}, geoBits{}, geoBits{}
		}
		if sa.area.lon.max > maxLon {
			n.east, n.southEast, n.northEast = geoBits{}, geoBits{}, geoBits{}
		}
	}
	return sa
}

// geoLatDistance is the distance in metres between two latitudes on
// one meridian.
func geoLatDistance(lat1, lat2 float64) float64 {
	return geoEarthRadius * math.Abs(float64(lat2*geoDegToRad)-float64(lat1*geoDegToRad))
}

// geoDistance is the haversine great-circle distance in metres.
func geoDistance(lon1, lat1, lon2, lat2 float64) float64 {
	lon1r, lon2r := float64(lon1*geoDegToRad), float64(lon2*geoDegToRad)
	v := geoSin((lon2r - lon1r) / 2)
	if v == 0 {
		return geoLatDistance(lat1, lat2)
	}
	lat1r, lat2r := float64(lat1*geoDegToRad), float64(lat2*geoDegToRad)
	u := geoSin((lat2r - lat1r) / 2)
	p := float64(float64(geoCos(lat1r)*geoCos(lat2r)) * v)
	a := float64(u*u) + float64(p*v)
	return 2.0 * geoEarthRadius * geoAsin(math.Sqrt(a))
}

// contains reports whether the point (lon, lat) lies in s, and its
// distance in metres from the centre.
func (s *geoShape) contains(lon, lat float64) (float64, bool) {
	if !s.box {
		d := geoDistance(s.lon, s.lat, lon, lat)
		return d, d <= s.radius*s.conv
	}
	// The cheaper latitude test first.
	if geoLatDistance(lat, s.lat) > s.height*s.conv/2 {
		return 0, false
	}
	if geoDistance(lon, lat, s.lon, lat) > s.width*s.conv/2 {
		return 0, false
	}
	return geoDistance(s.lon, s.lat, lon, lat), true
}

// ---- correctly rounded sin, cos and asin ----------------------------------------
//
// Go's math.Sin, Cos and Asin are off by an ulp or more in a good share
// of cases, where glibc (which Redis uses) nearly always rounds
// correctly; and the compiler may fuse their polynomial steps into FMAs
// on some platforms. Distances feed STOREDIST scores and the decision
// whether a point lies on the edge of a search, so both would differ
// from Redis, and between replicas on different platforms. These
// versions evaluate in double-double (about 106 bits) and round once.

// dd is an unevaluated sum hi+lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func ddTwoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func ddQuickSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func ddAdd(a, b dd) dd {
	s := ddTwoSum(a.hi, b.hi)
	t := ddTwoSum(a.lo, b.lo)
	s = ddQuickSum(s.hi, s.lo+t.hi)
	return ddQuickSum(s.hi, s.lo+t.lo)
}

func ddMul(a, b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p) // exact error of the product, on every platform
	e += float64(a.hi*b.lo) + float64(a.lo*b.hi)
	return ddQuickSum(p, e)
}

// ddDivInt divides a by a small integer n.
func ddDivInt(a dd, n float64) dd {
	q1 := a.hi / n
	p := q1 * n
	r := ddAdd(a, dd{-p, -math.FMA(q1, n, -p)})
	return ddQuickSum(q1, r.hi/n)
}

// π/2 as the sum of three doubles.
const (
	ddPio2a = 1.570796326794896558e+00
	ddPio2b = 6.123233995736766036e-17
	ddPio2c = -1.497384904859169777e-33
)

// ddReduce returns r = x - k·π/2 with |r| <= π/4, and k mod 4, for
// |x| < 8 (k <= 5: three parts of π/2 then keep r exact to ~2^-150).
func ddReduce(x dd) (dd, int) {
	k := math.Round(x.hi / ddPio2a)
	times := func(p float64) dd { h := k * p; return dd{-h, -math.FMA(k, p, -h)} }
	r := ddAdd(x, times(ddPio2a))
	r = ddAdd(r, times(ddPio2b))
	r = ddAdd(r, dd{-k * ddPio2c, 0})
	return r, int(k) & 3
}

// ddInvFact[n] is 1/n! in double-double.
var ddInvFact = func() (f [30]dd) {
	f[0] = dd{1, 0}
	for n := 1; n < len(f); n++ {
		f[n] = ddDivInt(f[n-1], float64(n))
	}
	return f
}()

// ddSeries sums the Taylor series of sin (odd) or cos (even) at |r| <= π/4
// by Horner's rule in -r², with as many terms as r needs for ~2^-110.
func ddSeries(r dd, odd bool) dd {
	n := 0 // power of r in the first term
	if odd {
		n = 1
	}
	r2 := r.hi * r.hi
	last, e := n, 1.0
	for e > 0x1p-112 && last+2 < len(ddInvFact) {
		e *= r2 / float64((last+1)*(last+2))
		last += 2
	}
	t := ddMul(r, r)
	t = dd{-t.hi, -t.lo}
	sum := ddInvFact[last]
	for k := last - 2; k >= n; k -= 2 {
		sum = ddAdd(ddMul(sum, t), ddInvFact[k])
	}
	if odd {
		sum = ddMul(sum, r)
	}
	return sum
}

// ddSin returns sin x (|x| < 8).
func ddSin(x dd) dd {
	r, q := ddReduce(x)
	var v dd
	if q&1 == 0 {
		v = ddSeries(r, true) // ±sin r
	} else {
		v = ddSeries(r, false) // ±cos r
	}
	if q >= 2 {
		v = dd{-v.hi, -v.lo}
	}
	return v
}

func geoSin(x float64) float64 {
	if math.Abs(x) >= 8 || x == 0 {
		return math.Sin(x)
	}
	return ddSin(dd{x, 0}).hi
}

// geoCos is sin(x + π/2), the shift done in double-double.
func geoCos(x float64) float64 {
	if math.Abs(x) >= 8 {
		return math.Cos(x)
	}
	return ddSin(ddAdd(dd{x, 0}, dd{ddPio2a, ddPio2b})).hi
}

// geoAsin returns the correctly rounded asin y. The seed is within a
// few ulps everywhere, but not the same ulp on every platform: one Newton
// step on sin in double-double brings it within about 2^-100, and that is
// rounded when the rounding is clear-cut. Otherwise y is compared with
// sin at the midpoints around the candidate, which depends on nothing but
// the deterministic double-double sin.
func geoAsin(y float64) float64 {
	if !(math.Abs(y) < 1) || y == 0 {
		return math.Asin(y) // ±1 gives ±π/2 correctly rounded; NaN beyond
	}
	if y < 0 {
		return -geoAsin(-y)
	}
	c := math.Sqrt(float64((1 - y) * (1 + y))) // cos z, needed to double precision only
	z := dd{geoAsinSeed(y), 0}
	s := ddSin(z)
	d := ddAdd(dd{y, 0}, dd{-s.hi, -s.lo})
	z = ddAdd(z, dd{d.hi / c, 0})
	r := z.hi
	// Distance of z from the midpoint it could round across, against a
	// generous bound on its error (the Newton error grows with tan z).
	var margin float64
	if z.lo >= 0 {
		margin = (math.Nextafter(r, 2)-r)/2 - z.lo
	} else {
		margin = (r-math.Nextafter(r, 0))/2 + z.lo
	}
	if margin > r*(y/c+1)*0x1p-88 {
		return r
	}
	return geoAsinByMidpoints(y, r)
}

// geoAsinSeed is asin y within a few ulps. Near 1 math.Asin loses
// precision in 1-y²; π/2 - 2·asin(sqrt((1-y)/2)) does not (1-y is exact).
func geoAsinSeed(y float64) float64 {
	if y <= 0.5 {
		return math.Asin(y)
	}
	return ddPio2a - 2*math.Asin(math.Sqrt((1-y)/2))
}

// geoAsinByMidpoints moves r until sin of the midpoints on either side of
// it brackets y (sin is increasing on [0, π/2]).
func geoAsinByMidpoints(y, r float64) float64 {
	less := func(y float64, s dd) bool { return y < s.hi || (y == s.hi && s.lo > 0) }
	for i := 0; i < 64; i++ {
		down, up := math.Nextafter(r, 0), math.Nextafter(r, 2)
		switch {
		case less(y, ddSin(dd{r, (down - r) / 2})):
			r = down
		case !less(y, ddSin(dd{r, (up - r) / 2})):
			r = up
		default:
			return r
		}
	}
	return r
}
