package consent

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// AccountID derives the DP-assigned account_id for a bank account shared with a data consumer
// (design.md §3.8; spec §5.4 "unique, immutable id the DP assigns during authorization"): opaque,
// 32 characters, stable for the same (dc_id, account) across consents, and not derivable from the
// account number without the server secret. key must be a secret of at least 32 bytes.
func AccountID(key []byte, dcID, accountRef string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("ofpdp/account-id/v1\x00"))
	m.Write([]byte(dcID))
	m.Write([]byte{0})
	m.Write([]byte(accountRef))
	return "acc-" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:28]
}

// SubjectID is the DP's stable, opaque customer id: the id_token sub (spec §4.5) and userinfo sub
// (§3.1.3). It is never the ID number: base64url(HMAC-SHA256(key, "sub" || customerRef)), first 27
// characters. The web journey and the resource server both use it so the two subs always agree.
func SubjectID(key []byte, customerRef string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("sub"))
	m.Write([]byte(customerRef))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:27]
}
