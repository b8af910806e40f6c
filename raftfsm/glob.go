package raftfsm

// GlobMatch reports whether s matches the Redis glob pattern (KEYS, SCAN
// MATCH, PSUBSCRIBE): '*', '?', '[abc]', '[^a-z]', and '\' escapes, with
// the same corner cases as Redis's stringmatchlen.
//
// It backtracks only to the most recent '*' (a later star subsumes what an
// earlier one could match), so it runs in O(len(pattern) * len(s)) even for
// patterns like "a*a*a*...*b" that make naive recursion exponential.
func GlobMatch(pattern, s string, nocase bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				starP, starI = p, i
				continue
			case '?':
				p++
				i++
				continue
			case '[':
				if next, ok := matchClass(pattern, p, s[i], nocase); ok {
					p = next
					i++
					continue
				}
			default:
				c := pattern[p]
				next := p + 1
				if c == '\\' && p+1 < len(pattern) {
					c = pattern[p+1]
					next = p + 2
				}
				if eqByte(c, s[i], nocase) {
					p = next
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last star swallow one more byte and retry from there.
		starI++
		p, i = starP, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchClass matches c against the class starting at pattern[p] == '[' and
// returns the index after the class.
func matchClass(pattern string, p int, c byte, nocase bool) (int, bool) {
	p++
	not := p < len(pattern) && pattern[p] == '^'
	if not {
		p++
	}
	match := false
	for p < len(pattern) {
		switch {
		case pattern[p] == '\\' && p+1 < len(pattern):
			p++
			if pattern[p] == c {
				match = true
			}
		case pattern[p] == ']':
			goto done
		case p+2 < len(pattern) && pattern[p+1] == '-':
			start, end := pattern[p], pattern[p+2]
			if start > end {
				start, end = end, start
			}
			cc := c
			if nocase {
				start, end, cc = lowerByte(start), lowerByte(end), lowerByte(cc)
			}
			if cc >= start && cc <= end {
				match = true
			}
			p += 2
		default:
			if eqByte(pattern[p], c, nocase) {
				match = true
			}
		}
		p++
	}
	// An unterminated class ends at the end of the pattern, as in Redis.
	p--
done:
	if not {
		match = !match
	}
	return p + 1, match
}

func eqByte(a, b byte, nocase bool) bool {
	if nocase {
		return lowerByte(a) == lowerByte(b)
	}
	return a == b
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
