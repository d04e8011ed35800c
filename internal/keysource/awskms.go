package keysource

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// KMSURI names an AWS KMS asymmetric key: awskms:KEY-ARN, optionally ?endpoint=https://…
// (a VPC interface endpoint). The region is the ARN's.
type KMSURI struct {
	KeyID    string // the key ARN
	Region   string
	Endpoint string // default https://kms.{region}.amazonaws.com
}

func parseKMSURI(rest string) (*KMSURI, error) {
	arn, query, _ := strings.Cut(rest, "?")
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || !strings.HasPrefix(f[1], "aws") || f[2] != "kms" || f[3] == "" || !strings.HasPrefix(f[5], "key/") {
		return nil, fmt.Errorf("%w: awskms: want a key ARN, arn:aws:kms:REGION:ACCOUNT:key/KEY-ID", ErrURI)
	}
	k := &KMSURI{KeyID: arn, Region: f[3], Endpoint: "https://kms." + f[3] + ".amazonaws.com"}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("%w: awskms query: %v", ErrURI, err)
		}
		for name := range q {
			if name != "endpoint" {
				return nil, fmt.Errorf("%w: awskms query attribute %q not supported (endpoint)", ErrURI, name)
			}
		}
		ep, err := url.Parse(q.Get("endpoint"))
		if err != nil || ep.Scheme != "https" || ep.Host == "" {
			return nil, fmt.Errorf("%w: awskms endpoint must be an https URL", ErrURI)
		}
		k.Endpoint = strings.TrimSuffix(ep.String(), "/")
	}
	return k, nil
}

// kmsKey signs with AWS KMS (the Sign action, MessageType DIGEST): the private key never
// leaves KMS's HSMs. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the
// optional AWS_SESSION_TOKEN, read at every call so that rotated session credentials apply.
type kmsKey struct {
	u      *KMSURI
	client *http.Client
	getenv func(string) string
	now    func() time.Time
	pub    crypto.PublicKey
	alg    string // KMS SigningAlgorithm
}

func openKMS(ctx context.Context, u *KMSURI, o Options) (Key, error) {
	k := &kmsKey{u: u, client: o.HTTPClient, getenv: o.Getenv, now: o.Now}
	if k.client == nil {
		k.client = &http.Client{Timeout: 5 * time.Second}
	}
	if k.getenv == nil {
		k.getenv = osGetenv
	}
	var out struct {
		PublicKey []byte   `json:"PublicKey"`
		KeyUsage  string   `json:"KeyUsage"`
		Algs      []string `json:"SigningAlgorithms"`
	}
	if err := k.call(ctx, "GetPublicKey", map[string]any{"KeyId": u.KeyID}, &out); err != nil {
		return nil, err
	}
	if out.KeyUsage != "SIGN_VERIFY" {
		return nil, fmt.Errorf("keysource: %s: key usage %q, want SIGN_VERIFY", u.KeyID, out.KeyUsage)
	}
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("keysource: %s: public key: %w", u.KeyID, err)
	}
	k.pub = pub
	switch p := pub.(type) {
	case *rsa.PublicKey:
		k.alg = "RSASSA_PSS_SHA_256"
	case *ecdsa.PublicKey:
		k.alg = map[int]string{384: "ECDSA_SHA_384", 521: "ECDSA_SHA_512"}[p.Curve.Params().BitSize]
	}
	if k.alg == "" || !contains(out.Algs, k.alg) {
		return nil, fmt.Errorf("keysource: %s: key spec cannot sign PS256, ES384 or ES512 (KMS algorithms %v)", u.KeyID, out.Algs)
	}
	return k, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (k *kmsKey) Public() crypto.PublicKey { return k.pub }

// Sign asks KMS to sign digest. Only the options of the JWS profile are accepted: PSS with
// SHA-256 and salt = hash length for RSA (KMS's RSASSA_PSS_SHA_256), SHA-384/512 for ECDSA.
// KMS returns ECDSA signatures DER-encoded, as crypto.Signer requires.
func (k *kmsKey) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	want := map[string]crypto.Hash{"RSASSA_PSS_SHA_256": crypto.SHA256, "ECDSA_SHA_384": crypto.SHA384, "ECDSA_SHA_512": crypto.SHA512}[k.alg]
	if opts.HashFunc() != want || len(digest) != want.Size() {
		return nil, fmt.Errorf("keysource: AWS KMS key signs %s only, asked for hash %v", k.alg, opts.HashFunc())
	}
	if pss, ok := opts.(*rsa.PSSOptions); k.alg == "RSASSA_PSS_SHA_256" && (!ok || (pss.SaltLength != rsa.PSSSaltLengthEqualsHash && pss.SaltLength != want.Size())) {
		return nil, fmt.Errorf("keysource: AWS KMS RSA keys sign RSASSA-PSS with salt = hash length only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out struct {
		Signature []byte `json:"Signature"`
	}
	in := map[string]any{"KeyId": k.u.KeyID, "Message": digest, "MessageType": "DIGEST", "SigningAlgorithm": k.alg}
	if err := k.call(ctx, "Sign", in, &out); err != nil {
		return nil, err
	}
	return out.Signature, nil
}

// Ready fetches the public key again: KMS reachable, credentials valid, key enabled.
func (k *kmsKey) Ready(ctx context.Context) error {
	return k.call(ctx, "GetPublicKey", map[string]any{"KeyId": k.u.KeyID}, &struct{}{})
}

func (k *kmsKey) Close() error { return nil }

// call posts one KMS JSON 1.1 action (X-Amz-Target TrentService.ACTION) signed with SigV4.
func (k *kmsKey) call(ctx context.Context, action string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.u.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService."+action)
	akid, secret := k.getenv("AWS_ACCESS_KEY_ID"), k.getenv("AWS_SECRET_ACCESS_KEY")
	if akid == "" || secret == "" {
		return fmt.Errorf("%w: AWS KMS: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set", ErrUnavailable)
	}
	if tok := k.getenv("AWS_SESSION_TOKEN"); tok != "" {
		req.Header.Set("X-Amz-Security-Token", tok)
	}
	signV4(req, body, akid, secret, k.u.Region, "kms", k.now())
	resp, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: AWS KMS %s: %v", ErrUnavailable, action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: AWS KMS %s: %v", ErrUnavailable, action, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("%w: AWS KMS %s: HTTP %d %s %s", ErrUnavailable, action, resp.StatusCode, e.Type, e.Message)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("keysource: AWS KMS %s answer: %w", action, err)
	}
	return nil
}

// signV4 adds X-Amz-Date and the Authorization header of AWS Signature Version 4
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html). Every header
// set on req so far, and Host, is signed.
func signV4(req *http.Request, body []byte, akid, secret, region, service string, now time.Time) {
	t := now.UTC()
	amzDate, day := t.Format("20060102T150405Z"), t.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	headers := map[string]string{"host": req.URL.Host}
	for name, v := range req.Header {
		headers[strings.ToLower(name)] = strings.TrimSpace(strings.Join(v, ","))
	}
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, n := range names {
		canonHeaders.WriteString(n + ":" + headers[n] + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	payload := sha256.Sum256(body)
	canon := strings.Join([]string{req.Method, path, canonicalQuery(req.URL.Query()), canonHeaders.String(), signed, hex.EncodeToString(payload[:])}, "\n")
	scope := day + "/" + region + "/" + service + "/aws4_request"
	canonSum := sha256.Sum256([]byte(canon))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(canonSum[:])
	key := []byte("AWS4" + secret)
	for _, part := range []string{day, region, service, "aws4_request", toSign} {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(part))
		key = m.Sum(nil)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+akid+"/"+scope+", SignedHeaders="+signed+", Signature="+hex.EncodeToString(key))
}

// canonicalQuery sorts and percent-encodes the query (SigV4 canonical query string).
func canonicalQuery(q url.Values) string {
	var parts []string
	for name, vs := range q {
		for _, v := range vs {
			parts = append(parts, escapeV4(name)+"="+escapeV4(v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

func escapeV4(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
