package keysource

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSignV4 reproduces the example of AWS's Signature Version 4 documentation
// ("Create a signed AWS API request", IAM ListUsers).
func TestSignV4(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signV4(req, nil, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "iam", time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC))
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	if got := req.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization\n got %s\nwant %s", got, want)
	}
}

// fakeKMS speaks the AWS KMS JSON 1.1 protocol for GetPublicKey and Sign with one key, and
// checks that every request is SigV4-signed with the test credentials.
type fakeKMS struct {
	t      *testing.T
	arn    string
	key    crypto.Signer
	algs   []string
	calls  []string
	down   bool
	secret string
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(code int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
	}
	if f.down {
		fail(http.StatusServiceUnavailable, "KMSInternalException", "unavailable")
		return
	}
	body, _ := io.ReadAll(r.Body)
	// Recompute the signature the way KMS does, from the received request.
	check, _ := http.NewRequest(r.Method, "https://"+r.Host+r.URL.Path, nil)
	for _, h := range []string{"Content-Type", "X-Amz-Target", "X-Amz-Security-Token"} {
		if v := r.Header.Get(h); v != "" {
			check.Header.Set(h, v)
		}
	}
	amzDate, _ := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	signV4(check, body, "AKIDTEST", f.secret, "ap-southeast-5", "kms", amzDate)
	if r.Header.Get("Authorization") != check.Header.Get("Authorization") {
		fail(http.StatusBadRequest, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		fail(http.StatusBadRequest, "SerializationException", "content type")
		return
	}
	var in struct {
		KeyID, MessageType, SigningAlgorithm string
		Message                              []byte
	}
	if err := json.Unmarshal(body, &in); err != nil || in.KeyID != f.arn {
		fail(http.StatusBadRequest, "NotFoundException", "key")
		return
	}
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	f.calls = append(f.calls, action)
	switch action {
	case "GetPublicKey":
		der, _ := x509.MarshalPKIXPublicKey(f.key.Public())
		_ = json.NewEncoder(w).Encode(map[string]any{"KeyId": f.arn, "PublicKey": der, "KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": f.algs})
	case "Sign":
		var opts crypto.SignerOpts
		switch in.SigningAlgorithm {
		case "RSASSA_PSS_SHA_256":
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		case "ECDSA_SHA_384":
			opts = crypto.SHA384
		default:
			fail(http.StatusBadRequest, "ValidationException", "algorithm")
			return
		}
		if in.MessageType != "DIGEST" || len(in.Message) != opts.HashFunc().Size() {
			fail(http.StatusBadRequest, "ValidationException", "message")
			return
		}
		sig, err := f.key.Sign(rand.Reader, in.Message, opts)
		if err != nil {
			fail(http.StatusInternalServerError, "KMSInternalException", err.Error())
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"KeyId": f.arn, "Signature": sig, "SigningAlgorithm": in.SigningAlgorithm})
	default:
		fail(http.StatusBadRequest, "UnknownOperationException", action)
	}
}

const testARN = "arn:aws:kms:ap-southeast-5:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func startKMS(t *testing.T, key crypto.Signer, algs ...string) (*fakeKMS, Options, string) {
	t.Helper()
	f := &fakeKMS{t: t, arn: testARN, key: key, algs: algs, secret: "secret-test-key"}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret-test-key"}
	return f, Options{HTTPClient: srv.Client(), Getenv: func(k string) string { return env[k] }},
		"awskms:" + testARN + "?endpoint=" + srv.URL
}

// TestKMSSignsProfileAlgs signs PS256 and ES384 through the KMS wire protocol and verifies
// with the public key.
func TestKMSSignsProfileAlgs(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		algs []string
		opts crypto.SignerOpts
	}{
		{"RSA_2048", rsaKey, []string{"RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PSS_SHA_256"}, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
		{"ECC_NIST_P384", ecKey, []string{"ECDSA_SHA_384"}, crypto.SHA384},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, o, uri := startKMS(t, tc.key, tc.algs...)
			k, err := Open(t.Context(), uri, o)
			if err != nil {
				t.Fatal(err)
			}
			h := tc.opts.HashFunc().New()
			h.Write([]byte("payload"))
			digest := h.Sum(nil)
			sig, err := k.Sign(rand.Reader, digest, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			switch pub := k.Public().(type) {
			case *rsa.PublicKey:
				err = rsa.VerifyPSS(pub, crypto.SHA256, digest, sig, tc.opts.(*rsa.PSSOptions))
			case *ecdsa.PublicKey:
				if !ecdsa.VerifyASN1(pub, digest, sig) {
					err = errors.New("ECDSA signature does not verify")
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := k.Ready(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(f.calls, ","); got != "GetPublicKey,Sign,GetPublicKey" {
				t.Fatalf("KMS calls %s", got)
			}
			if _, err := k.Sign(rand.Reader, digest[:20], tc.opts); err == nil {
				t.Fatal("signed a digest of the wrong length")
			}
		})
	}
}

// TestKMSFailures: wrong credentials, KMS down, a key that cannot sign the profile's algs.
func TestKMSFailures(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, o, uri := startKMS(t, ecKey, "ECDSA_SHA_256")
	if _, err := Open(t.Context(), uri, o); err == nil || !strings.Contains(err.Error(), "cannot sign PS256, ES384 or ES512") {
		t.Fatalf("P-256 key: %v", err)
	}

	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	f, o, uri := startKMS(t, p384, "ECDSA_SHA_384")
	k, err := Open(t.Context(), uri, o)
	if err != nil {
		t.Fatal(err)
	}
	f.down = true
	if err := k.Ready(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready while KMS is down: %v", err)
	}
	f.down = false
	if err := k.Ready(context.Background()); err != nil {
		t.Fatalf("Ready after KMS is back: %v", err)
	}
	f.secret = "rotated"
	digest := sha256.Sum256(nil)
	_, err = k.Sign(nil, append(digest[:], make([]byte, 16)...), crypto.SHA384)
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") {
		t.Fatalf("wrong credentials: %v", err)
	}
	o.Getenv = func(string) string { return "" }
	if _, err := Open(t.Context(), uri, o); err == nil || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Fatalf("no credentials: %v", err)
	}
}
