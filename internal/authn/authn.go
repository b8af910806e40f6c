// Package authn holds the shared secrets' plumbing: reading a secret from
// a file, and the bearer token that guards the gRPC port (sent by nodes
// and raftcachectl, checked by every node's server).
package authn

import (
	"context"
	"crypto/subtle"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// ReadSecretFile reads a secret (gRPC token, RESP password) from a file,
// surrounding white space dropped; an empty one is an error, not "no
// authentication".
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// bearer attaches the token to every call as "authorization: Bearer TOKEN".
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: the token guards a port on a private
// network; TLS is not configured.
func (bearer) RequireTransportSecurity() bool { return false }

// BearerCreds returns call credentials carrying token.
func BearerCreds(token string) credentials.PerRPCCredentials { return bearer(token) }

// checkBearer accepts a call whose metadata carries the bearer token.
func checkBearer(ctx context.Context, token string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		got, ok := strings.CutPrefix(v, "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "missing or wrong token (raftcachectl --token-file, or RAFTCACHE_TOKEN)")
}

// ServerOptions returns the gRPC server options that require token on
// every unary and streaming call (none if token is empty).
func ServerOptions(token string) []grpc.ServerOption {
	if token == "" {
		return nil
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			if err := checkBearer(ctx, token); err != nil {
				return nil, err
			}
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
			if err := checkBearer(ss.Context(), token); err != nil {
				return err
			}
			return h(srv, ss)
		}),
	}
}
