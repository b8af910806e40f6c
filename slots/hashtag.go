package slots

import "bytes"

// HashPart returns the bytes of key that are hashed: the content of the
// first non-empty {...} tag, or the whole key. The rule is Redis's exactly:
// the first '{', then the first '}' after it; an empty tag hashes the whole key.
func HashPart(key []byte) []byte {
	open := bytes.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	end := bytes.IndexByte(key[open+1:], '}')
	if end <= 0 { // no closing brace, or "{}"
		return key
	}
	return key[open+1 : open+1+end]
}
