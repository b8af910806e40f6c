package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		protocols, ciphers string
		key                x509.PublicKeyAlgorithm
		min, max           uint16
		suites             []uint16
		err                string // a part of the error; "" = valid
	}{
		{"", "", x509.ECDSA, tls.VersionTLS12, tls.VersionTLS13, nil, ""},
		{"TLSv1.2 TLSv1.3", "", x509.ECDSA, tls.VersionTLS12, tls.VersionTLS13, nil, ""},
		{"tlsv1.3", "", x509.ECDSA, tls.VersionTLS13, tls.VersionTLS13, nil, ""},
		{" TLSv1.2 ", "", x509.RSA, tls.VersionTLS12, tls.VersionTLS12, nil, ""},
		{"TLSv1.1 TLSv1.2", "", x509.ECDSA, 0, 0, nil, "TLSv1.1 is not supported"},
		{"TLSv1", "", x509.ECDSA, 0, 0, nil, "TLSv1 is not supported"},
		{"SSLv3", "", x509.ECDSA, 0, 0, nil, `unknown protocol "SSLv3"`},
		{"", "ECDHE-ECDSA-AES256-GCM-SHA384:ecdhe-rsa-aes128-gcm-sha256", x509.ECDSA, tls.VersionTLS12, tls.VersionTLS13,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, ""},
		{"", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, ECDHE-ECDSA-AES128-SHA", x509.ECDSA, tls.VersionTLS12, tls.VersionTLS13,
			[]uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}, ""},
		{"", "HIGH:!aNULL", x509.ECDSA, 0, 0, nil, `unknown or insecure cipher "HIGH"`},
		{"", "AES128-SHA", x509.RSA, 0, 0, nil, `unknown or insecure cipher "AES128-SHA"`},
		{"", "TLS_AES_128_GCM_SHA256", x509.ECDSA, 0, 0, nil, "TLS 1.3 suite"},
		{"", "ECDHE-RSA-AES128-GCM-SHA256", x509.ECDSA, 0, 0, nil, "no TLS 1.2 client could connect"},
		// Only TLS 1.3 is offered: the TLS 1.2 suites do not matter.
		{"TLSv1.3", "ECDHE-RSA-AES128-GCM-SHA256", x509.ECDSA, tls.VersionTLS13, tls.VersionTLS13,
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.protocols+"/"+tt.ciphers, func(t *testing.T) {
			p, err := parsePolicy(tt.protocols, tt.ciphers, tt.key)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.min != tt.min || p.max != tt.max || !slices.Equal(p.suites, tt.suites) {
				t.Fatalf("got versions %x-%x suites %x, want %x-%x %x", p.min, p.max, p.suites, tt.min, tt.max, tt.suites)
			}
		})
	}
}

// TestPolicyHandshakes checks that the versions and suites set reach the
// handshakes that start afterwards, on a server config built before.
func TestPolicyHandshakes(t *testing.T) {
	a := devSet(t)
	c := load(t, a.Node)
	srv := c.ClientServer()
	grpcSrv := c.GRPCServer()
	client := func(maxVersion uint16, suites ...uint16) (*tls.Config, *tls.ConnectionState) {
		cfg, err := Client(ClientOptions{CA: a.Node.CA, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxVersion, cfg.CipherSuites = maxVersion, suites
		var got tls.ConnectionState
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { got = cs; return nil }
		return cfg, &got
	}
	steps := []struct {
		protocols, ciphers string
		maxVersion         uint16
		offer              []uint16
		wantErr            bool
		version, suite     uint16 // negotiated, when it succeeds (suite 0: not checked)
	}{
		{"", "", tls.VersionTLS13, nil, false, tls.VersionTLS13, 0},
		{"", "", tls.VersionTLS12, nil, false, tls.VersionTLS12, 0},
		{"TLSv1.3", "", tls.VersionTLS12, nil, true, 0, 0},
		{"TLSv1.3", "", tls.VersionTLS13, nil, false, tls.VersionTLS13, 0},
		{"TLSv1.2", "", tls.VersionTLS13, nil, false, tls.VersionTLS12, 0},
		{"", "ECDHE-ECDSA-AES256-GCM-SHA384", tls.VersionTLS12, nil, false, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{"", "ECDHE-ECDSA-AES256-GCM-SHA384", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, true, 0, 0},
		{"", "", tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, false, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
	}
	for i, st := range steps {
		if err := c.SetPolicy(st.protocols, st.ciphers); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if p, ci := c.Policy(); p != st.protocols || ci != st.ciphers {
			t.Fatalf("step %d: Policy() = %q %q", i, p, ci)
		}
		for _, server := range []*tls.Config{srv, grpcSrv} {
			cfg, got := client(st.maxVersion, st.offer...)
			serr, cerr := handshake(t, server, cfg)
			if failed := serr != nil || cerr != nil; failed != st.wantErr {
				t.Fatalf("step %d: server err %v, client err %v; want failure %v", i, serr, cerr, st.wantErr)
			}
			if !st.wantErr && (got.Version != st.version || st.suite != 0 && got.CipherSuite != st.suite) {
				t.Fatalf("step %d: negotiated version %x suite %x, want %x %x", i, got.Version, got.CipherSuite, st.version, st.suite)
			}
		}
	}
	// gRPC's handshakes keep ALPN's h2.
	if cfg, err := grpcSrv.GetConfigForClient(nil); err != nil || !slices.Equal(cfg.NextProtos, []string{"h2"}) {
		t.Fatalf("gRPC per-handshake config: %v %v", cfg.NextProtos, err)
	}
	// A bad value changes nothing.
	if err := c.SetPolicy("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"); err == nil {
		t.Fatal("RSA-only suites accepted for an ECDSA certificate")
	}
	if p, ci := c.Policy(); p != "" || ci != "" {
		t.Fatalf("after a refused change: %q %q", p, ci)
	}
}
