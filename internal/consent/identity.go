package consent

import "crypto/subtle"

// IdentifiesCustomer reports whether the consent names the customer it is for: id_type and
// hashed_id_number (spec §5.2, design §3.11). Without them anyone who opens the authorize link
// could approve the consent, so a deployment with authorize.require_identity_binding (the
// default) refuses such a consent.
func (c *Consent) IdentifiesCustomer() bool { return c.IDType != "" && c.HashedIDNumber != "" }

// MatchesCustomer reports whether the signed-in customer — their id type and the
// HashIDNumber of their id number — is the one the consent names (design §3.11, negative-tests
// U6). A consent that names no customer matches anyone (callers that require a binding check
// IdentifiesCustomer first); a consent with a hash but no id_type is matched on the hash. The
// hash is compared in constant time.
func (c *Consent) MatchesCustomer(idType, hashedIDNumber string) bool {
	if c.HashedIDNumber == "" {
		return true
	}
	if subtle.ConstantTimeCompare([]byte(hashedIDNumber), []byte(c.HashedIDNumber)) != 1 {
		return false
	}
	return c.IDType == "" || string(c.IDType) == idType
}
