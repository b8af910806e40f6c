// Package s3test runs an in-memory S3 API (gofakes3) on a loopback port
// for tests of backups to S3. Only test code imports it.
package s3test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// AccessKey is the access key ID New puts into the environment.
const AccessKey = "AKIDRAFTCACHETEST"

// Server is the store. It refuses requests that are not SigV4-signed with
// AccessKey (gofakes3 itself checks no signature), so a client must find
// its credentials in the environment as documented.
type Server struct {
	URL      string // http://127.0.0.1:PORT
	be       *s3mem.Backend
	requests atomic.Int64
}

// New starts a store holding the given (empty) buckets and sets the
// environment's AWS credentials and region for the test (t.Setenv: the
// test cannot be parallel). The server stops at the test's end.
func New(t testing.TB, buckets ...string) *Server {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	s := &Server{be: s3mem.New()}
	for _, b := range buckets {
		if err := s.be.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	h := gofakes3.New(s.be, gofakes3.WithTimeSkewLimit(0)).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+AccessKey+"/") {
			http.Error(w, "unsigned request", http.StatusForbidden)
			return
		}
		if r.Header.Get("X-Amz-Content-Sha256") == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" && r.URL.Query().Has("partNumber") {
			// gofakes3 decodes signed chunks in PutObject only, not in a
			// multipart upload's parts (which real stores do).
			body, err := decodeAWSChunked(r.Body)
			if err != nil || strconv.Itoa(len(body)) != r.Header.Get("X-Amz-Decoded-Content-Length") {
				http.Error(w, fmt.Sprintf("bad aws-chunked body (%d bytes): %v", len(body), err), http.StatusBadRequest)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Requests counts the requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Keys lists a bucket's object keys, sorted.
func (s *Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	l, err := s.be.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range l.Contents {
		out = append(out, c.Key)
	}
	slices.Sort(out)
	return out
}

// Put stores an object directly.
func (s *Server) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	if _, err := s.be.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		t.Fatal(err)
	}
}

// Delete removes an object directly.
func (s *Server) Delete(t testing.TB, bucket, key string) {
	t.Helper()
	if _, err := s.be.DeleteObject(bucket, key); err != nil {
		t.Fatal(err)
	}
}

// decodeAWSChunked reads a body in the aws-chunked encoding of SigV4
// streaming uploads: chunks of "hex-size;chunk-signature=...\r\n", the
// data, "\r\n", ending with a chunk of size 0.
func decodeAWSChunked(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	var out []byte
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return out, err
		}
		hexSize, _, _ := strings.Cut(strings.TrimSuffix(line, "\r\n"), ";")
		n, err := strconv.ParseInt(hexSize, 16, 64)
		if err != nil || n < 0 {
			return out, fmt.Errorf("chunk header %q", line)
		}
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return out, err
		}
		if string(chunk[n:]) != "\r\n" {
			return out, errors.New("chunk not followed by CRLF")
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, chunk[:n]...)
	}
}
