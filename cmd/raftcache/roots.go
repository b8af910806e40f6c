package main

// The image is FROM scratch, with no CA certificates: HTTPS to S3
// (automatic backups to s3://) would trust nothing. This embeds Mozilla's
// roots, used only when the system has none (SSL_CERT_FILE/SSL_CERT_DIR
// or the distribution's bundle take precedence).
import _ "golang.org/x/crypto/x509roots/fallback"
