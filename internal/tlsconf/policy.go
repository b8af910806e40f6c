package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// policy is what a handshake may negotiate: Redis's tls-protocols and
// tls-ciphers, as given and as parsed.
type policy struct {
	protocols, ciphers string   // as set ("": the defaults)
	min, max           uint16   // protocol versions
	suites             []uint16 // TLS 1.2 suites; nil: Go's defaults
}

var defaultPolicy = policy{min: tls.VersionTLS12, max: tls.VersionTLS13}

// protocolVersions are the tls-protocols names and the versions they
// stand for; TLS 1.0 and 1.1 are refused (see parsePolicy).
var protocolVersions = map[string]uint16{"tlsv1.2": tls.VersionTLS12, "tlsv1.3": tls.VersionTLS13}

// opensslSuites gives Go's TLS 1.2 cipher suites the names OpenSSL (and so
// Redis's tls-ciphers) uses; the IANA names Go uses are accepted too. TLS
// 1.3 suites are not listed: Go does not let them be chosen.
var opensslSuites = map[string]uint16{
	"ECDHE-ECDSA-AES128-GCM-SHA256": tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-ECDSA-AES256-GCM-SHA384": tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-RSA-AES128-GCM-SHA256":   tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	"ECDHE-RSA-AES256-GCM-SHA384":   tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	"ECDHE-ECDSA-CHACHA20-POLY1305": tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-RSA-CHACHA20-POLY1305":   tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	"ECDHE-ECDSA-AES128-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	"ECDHE-ECDSA-AES256-SHA":        tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	"ECDHE-RSA-AES128-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	"ECDHE-RSA-AES256-SHA":          tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
}

// parsePolicy checks tls-protocols (TLSv1.2 and/or TLSv1.3, separated by
// spaces, any case; empty: both) and tls-ciphers (suite names separated by
// colons, commas or spaces; empty: Go's defaults) for a certificate of the
// given key algorithm.
func parsePolicy(protocols, ciphers string, key x509.PublicKeyAlgorithm) (policy, error) {
	p := policy{protocols: protocols, ciphers: ciphers, min: defaultPolicy.min, max: defaultPolicy.max}
	if names := strings.Fields(protocols); len(names) > 0 {
		p.min, p.max = 0, 0
		for _, n := range names {
			v, ok := protocolVersions[strings.ToLower(n)]
			if !ok {
				switch strings.ToLower(n) {
				case "tlsv1", "tlsv1.1":
					return policy{}, fmt.Errorf("tls-protocols: %s is not supported (TLS 1.2 is the oldest version accepted)", n)
				}
				return policy{}, fmt.Errorf("tls-protocols: unknown protocol %q (want TLSv1.2 and/or TLSv1.3)", n)
			}
			if p.min == 0 || v < p.min {
				p.min = v
			}
			p.max = max(p.max, v)
		}
	}
	names := strings.FieldsFunc(ciphers, func(r rune) bool { return r == ':' || r == ',' || r == ' ' })
	if len(names) == 0 {
		return p, nil
	}
	iana := map[string]*tls.CipherSuite{}
	for _, s := range tls.CipherSuites() {
		iana[s.Name] = s
	}
	usable := false
	for _, n := range names {
		id, ok := opensslSuites[strings.ToUpper(n)]
		if s := iana[strings.ToUpper(n)]; !ok && s != nil {
			if !slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
				return policy{}, fmt.Errorf("tls-ciphers: %s is a TLS 1.3 suite, which Go always offers and does not let be chosen", n)
			}
			id, ok = s.ID, true
		}
		if !ok {
			return policy{}, fmt.Errorf("tls-ciphers: unknown or insecure cipher %q (names like ECDHE-ECDSA-AES128-GCM-SHA256; OpenSSL's keywords such as HIGH are not understood)", n)
		}
		p.suites = append(p.suites, id)
		if suiteFits(id, key) {
			usable = true
		}
	}
	if !usable && p.min <= tls.VersionTLS12 {
		return policy{}, fmt.Errorf("tls-ciphers: none of %q works with the certificate's %v key, so no TLS 1.2 client could connect", ciphers, key)
	}
	return p, nil
}

// suiteFits reports whether a TLS 1.2 suite can be used with a certificate
// whose key is of algorithm key.
func suiteFits(id uint16, key x509.PublicKeyAlgorithm) bool {
	name := tls.CipherSuiteName(id)
	switch key {
	case x509.ECDSA:
		return strings.Contains(name, "_ECDSA_")
	case x509.RSA:
		return strings.Contains(name, "_RSA_")
	}
	return true
}

// apply sets cfg's versions and suites to p's.
func (p policy) apply(cfg *tls.Config) {
	cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites = p.min, p.max, p.suites
}
