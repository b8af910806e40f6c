package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
)

// Backups in S3 or any S3-compatible store (MinIO, Ceph RGW, Cloudflare
// R2, ...): s3://bucket/prefix names a prefix, and the files of a backup
// are objects below it, as files are in a directory. A shard file is
// written to a local temporary file first (it is checked there, as on
// disk) and then uploaded; the manifest is uploaded last, so a prefix
// without manifest.json is not a backup (List skips it) whatever a failed
// upload left.

// S3Options configures the S3 client. Credentials are the AWS SDK's, in
// its order: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN),
// then the shared credentials file (~/.aws/credentials, AWS_PROFILE), then
// an EC2 or ECS instance role; with none, requests go unsigned.
type S3Options struct {
	// Endpoint is the S3 API's address: empty for AWS (s3.amazonaws.com),
	// host[:port] for HTTPS, or a URL (http://127.0.0.1:9000 for a
	// plaintext MinIO). HTTPS trusts the system's CAs (SSL_CERT_FILE adds
	// a private one).
	Endpoint string
	// Region is the bucket's region (empty: AWS_REGION, else asked of the
	// store).
	Region string
	// TempDir is where shard files wait for their upload (created if
	// missing; empty: the system's, $TMPDIR or /tmp). A node uses its data
	// directory: its FROM scratch image has no /tmp.
	TempDir string
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// IsS3 reports whether where names an S3 location.
func IsS3(where string) bool { return strings.HasPrefix(where, "s3://") }

// S3 is a prefix in a bucket.
type S3 struct {
	c       *minio.Client
	bucket  string
	prefix  string // "" or ending in "/"
	tempDir string // S3Options.TempDir
}

// ParseS3URL splits s3://bucket[/prefix] into bucket and prefix (without
// slashes at either end).
func ParseS3URL(where string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(where, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: not an s3:// URL", where)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: no bucket (want s3://bucket/prefix)", where)
	}
	if err := s3utils.CheckValidBucketNameStrict(bucket); err != nil {
		return "", "", fmt.Errorf("%q: %w", where, err)
	}
	for _, el := range strings.Split(prefix, "/") {
		if prefix != "" && (el == "" || el == "." || el == "..") {
			return "", "", fmt.Errorf("%q: bad prefix element %q", where, el)
		}
	}
	return bucket, prefix, nil
}

// OpenS3 makes the client of an s3:// location. It does not contact the
// store: a wrong endpoint, bucket or credential shows on first use.
func OpenS3(where string, opt S3Options) (*S3, error) {
	bucket, prefix, err := ParseS3URL(where)
	if err != nil {
		return nil, err
	}
	host, secure, err := s3Endpoint(opt.Endpoint)
	if err != nil {
		return nil, err
	}
	region := opt.Region
	if region == "" {
		region = os.Getenv("AWS_REGION")
	}
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	c, err := minio.New(host, &minio.Options{
		Creds: credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		}),
		Secure:    secure,
		Region:    region,
		Transport: opt.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %q: %w", opt.Endpoint, err)
	}
	if prefix != "" {
		prefix += "/"
	}
	return &S3{c: c, bucket: bucket, prefix: prefix, tempDir: opt.TempDir}, nil
}

// s3Endpoint turns S3Options.Endpoint into minio's host and TLS choice.
func s3Endpoint(ep string) (host string, secure bool, err error) {
	switch {
	case ep == "":
		return "s3.amazonaws.com", true, nil
	case !strings.Contains(ep, "://"):
		return ep, true, nil
	}
	u, err := url.Parse(ep)
	if err != nil {
		return "", false, fmt.Errorf("s3 endpoint %q: %w", ep, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return "", false, fmt.Errorf("s3 endpoint %q: want host[:port], http://host[:port] or https://host[:port]", ep)
	}
	return u.Host, u.Scheme == "https", nil
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *S3) Join(name string) Location {
	return &S3{c: s.c, bucket: s.bucket, prefix: s.prefix + name + "/", tempDir: s.tempDir}
}

// Stage writes into a temporary file of this machine; Commit uploads it.
func (s *S3) Stage(name string) (*os.File, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if s.tempDir != "" {
		if err := os.MkdirAll(s.tempDir, 0o750); err != nil {
			return nil, err
		}
	}
	return os.CreateTemp(s.tempDir, "raftcache-backup-*-"+name)
}

func (s *S3) Commit(ctx context.Context, name string, f *os.File) error {
	defer s.Discard(f)
	if err := checkName(name); err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// A file over minio's part size goes up as a multipart upload.
	if _, err := s.c.PutObject(ctx, s.bucket, s.prefix+name, f, st.Size(),
		minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return fmt.Errorf("upload %s%s: %w", s, name, err)
	}
	return nil
}

func (*S3) Discard(f *os.File) { discard(f) }

func (s *S3) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, s.prefix+name, minio.GetObjectOptions{})
	if err == nil {
		_, err = o.Stat() // GetObject is lazy: this is the request
	}
	if err != nil {
		if o != nil {
			o.Close()
		}
		return nil, s.wrap(name, err)
	}
	return o, nil
}

// wrap names the object in err and makes a missing one os.ErrNotExist.
func (s *S3) wrap(name string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return fmt.Errorf("%s%s: %w", s, name, os.ErrNotExist)
	case minio.NoSuchBucket:
		return fmt.Errorf("%s: no such bucket: %w", s, os.ErrNotExist)
	}
	return fmt.Errorf("%s%s: %w", s, name, err)
}

func (s *S3) List(ctx context.Context) ([]string, error) {
	var out []string
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix}) {
		if o.Err != nil {
			return nil, s.wrap("", o.Err)
		}
		if name, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, s.prefix), "/"); ok && name != "" {
			out = append(out, name)
		}
	}
	return out, nil
}

// RemoveAll deletes every object under the prefix, one request each (a
// backup is a few objects; multi-object delete is not in every store).
func (s *S3) RemoveAll(ctx context.Context) error {
	if s.prefix == "" {
		return errors.New("refusing to empty a whole bucket")
	}
	var errs []error
	for o := range s.c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if o.Err != nil {
			return s.wrap("", o.Err)
		}
		if err := s.c.RemoveObject(ctx, s.bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("remove s3://%s/%s: %w", s.bucket, o.Key, err))
		}
	}
	return errors.Join(errs...)
}
