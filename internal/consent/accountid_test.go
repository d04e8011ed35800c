package consent

import (
	"strings"
	"testing"
)

func TestAccountID(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	a := AccountID(key, "DC1", "ACC-1")
	if len(a) > 36 || len(a) != 32 {
		t.Fatalf("length %d, want 32 (≤ 36)", len(a))
	}
	if a != AccountID(key, "DC1", "ACC-1") {
		t.Fatal("not stable for the same dc and account")
	}
	for _, other := range []string{AccountID(key, "DC2", "ACC-1"), AccountID(key, "DC1", "ACC-2"),
		AccountID([]byte(strings.Repeat("x", 32)), "DC1", "ACC-1"), AccountID(key, "DC1A", "CC-1")} {
		if other == a {
			t.Fatalf("collision: %s", other)
		}
	}
	if strings.Contains(a, "ACC-1") {
		t.Fatal("account reference visible in the id")
	}
}

func TestHashIDNumber(t *testing.T) {
	// SHA-256("900101145678") standard base64, padded (design §3.11); computed with sha256sum | xxd -r -p | base64.
	const want = "6UFs4WIYqsZrz1XHJ8+sLn4X7Hj/5vXZZYBEDVmBWaM="
	for _, in := range []string{"900101145678", "900101-14-5678", " 900101 14 5678 "} {
		if got := HashIDNumber(in); got != want {
			t.Errorf("HashIDNumber(%q) = %s, want %s", in, got, want)
		}
	}
	if HashIDNumber("a1234567") != HashIDNumber("A1234567") {
		t.Error("passport numbers must hash case-insensitively")
	}
	if got := MaskIDNumber("900101-14-5678"); got != "********5678" {
		t.Errorf("MaskIDNumber = %s", got)
	}
}

func TestCanTransition(t *testing.T) {
	cases := []struct {
		from, to Status
		ok       bool
	}{
		{StatusAwaitingAuthorization, StatusAuthorized, true},
		{StatusAwaitingAuthorization, StatusRejected, true},
		{StatusAwaitingAuthorization, StatusFailed, true},
		{StatusAwaitingAuthorization, StatusRevoked, false},
		{StatusAuthorized, StatusSuspended, true},
		{StatusSuspended, StatusAuthorized, true},
		{StatusAuthorized, StatusAwaitingAuthorization, false},
		{StatusRevoked, StatusAuthorized, false},
		{StatusExpired, StatusAuthorized, false},
		{StatusRejected, StatusAuthorized, false},
		{StatusAuthorized, StatusAuthorized, true},
	}
	for _, c := range cases {
		if got := CanTransition(c.from, c.to); got != c.ok {
			t.Errorf("%s → %s = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}

const subjectVector = "mDNDs8xrXLRP2trtQUpNv-xvF4l"

func TestSubjectID(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	a := SubjectID(key, "cust-1")
	if len(a) != 27 || strings.ContainsAny(a, "+/=") {
		t.Fatalf("SubjectID = %q: want 27 base64url characters", a)
	}
	// Fixed vector: base64url(HMAC-SHA256(key, "sub"||"cust-1"))[:27], computed independently with
	// `printf 'subcust-1' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef -binary | basenc --base64url`.
	if a != subjectVector {
		t.Errorf("SubjectID = %q, want %q", a, subjectVector)
	}
	if SubjectID(key, "cust-2") == a || SubjectID([]byte("another key of thirty-two bytes!"), "cust-1") == a {
		t.Error("SubjectID does not depend on both the key and the customer")
	}
}
